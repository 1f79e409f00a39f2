// Maps every error to `{ error: { code, message, details } }`. Domain errors keep their code;
// Fastify's own (validation, bad JSON, body limits) get ours; anything else is a logged bare 500.

import type { FastifyError, FastifyInstance } from 'fastify';
import { ERROR_CODES, FerryError, type ErrorCode } from '@ferry/core/errors';

export function errorBody(code: ErrorCode, message: string, details?: Record<string, unknown>) {
  return { error: details ? { code, message, details } : { code, message } };
}

function fromFastify(err: FastifyError): FerryError | undefined {
  if (err.validation) {
    const first = err.validation[0];
    const where = err.validationContext ?? 'request';
    const field = first?.instancePath
      ? first.instancePath.replace(/^\//, '').replace(/\//g, '.')
      : (first?.params as { missingProperty?: string; additionalProperty?: string })?.missingProperty;
    const extra = (first?.params as { additionalProperty?: string })?.additionalProperty;
    const message = extra
      ? `${where} has an unknown field "${extra}"`
      : `${where}${field ? ` field "${field}"` : ''} ${first?.message ?? 'is invalid'}`;
    return new FerryError('BAD_REQUEST', message, {
      issues: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
    });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new FerryError('BAD_REQUEST', 'the body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new FerryError('PAYLOAD_TOO_LARGE', 'the request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new FerryError('UNSUPPORTED_MEDIA_TYPE', 'unsupported content type');
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    const code =
      (Object.keys(ERROR_CODES) as ErrorCode[]).find((c) => ERROR_CODES[c].status === err.statusCode) ??
      'BAD_REQUEST';
    return new FerryError(code, err.message);
  }
  return undefined;
}

const DRAIN_LIMIT = 16 * 1024 * 1024;

/**
 * A refused upload leaves body bytes unread. Discard up to DRAIN_LIMIT of them so the client can
 * read the error answer (most clients fail the request if the socket closes mid-send); past that,
 * close the connection rather than receive a large body for nothing.
 */
function discardBody(raw: NodeJS.ReadableStream & { socket?: { destroy(): void } }): void {
  let drained = 0;
  raw.on('data', (d: Buffer) => {
    drained += d.length;
    if (drained > DRAIN_LIMIT) raw.socket?.destroy();
  });
  raw.resume();
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const ferry = err instanceof FerryError ? err : fromFastify(err);
    if (!ferry) {
      request.log.error({ err }, 'unhandled error');
      return reply.status(500).send(errorBody('INTERNAL', 'internal server error'));
    }
    if (ferry.status >= 500) request.log.error({ err }, ferry.message);
    if (!request.raw.complete) discardBody(request.raw);
    const retryAfter = ferry.details?.retryAfter;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    return reply.status(ferry.status).send(errorBody(ferry.code, ferry.message, ferry.details));
  });
}
