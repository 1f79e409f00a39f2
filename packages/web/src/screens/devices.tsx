// Devices: kind, last seen, last sync, a chart of recent sync runs, revoke; and the devices
// that keep failing. The telemetry endpoints may be missing on older servers: then say so.

import { useState } from 'react';
import { isFerryApiError, type Device, type SyncEvent } from '@ferry/client/api/index';
import { client } from '../lib/api.ts';
import { useApp, useAsync } from '../lib/app-state.ts';
import { formatAgo, formatDate } from '../lib/format.ts';
import { SyncChart } from '../components/sync-chart.tsx';
import { DeviceIcon } from '../components/icons.tsx';
import { ErrorNote } from '../components/dialog.tsx';

export default function DevicesScreen() {
  const { data, error, loading, reload } = useAsync(() => client.devices.list(), []);
  const failing = useAsync(
    () =>
      client.devices
        .repeatedFailures()
        .catch((e: unknown) => (isFerryApiError(e) && e.status === 404 ? null : Promise.reject(e))),
    [],
  );
  const active = data?.filter((d) => !d.revokedAt) ?? [];
  const revoked = data?.filter((d) => d.revokedAt) ?? [];
  return (
    <section aria-labelledby="devices-title">
      <h1 id="devices-title">Devices</h1>
      <ErrorNote error={error} />
      {loading && !data && <p role="status">Loading…</p>}

      <h2>Failing repeatedly</h2>
      {failing.data === null ? (
        <p className="meta">This server does not report sync failures yet.</p>
      ) : failing.data?.length === 0 ? (
        <p className="meta">No device is failing repeatedly.</p>
      ) : (
        <ul className="plain-list failing" aria-label="Devices failing repeatedly">
          {failing.data?.map((f) => (
            <li key={f.deviceId} className="row">
              <div className="name">
                <span className="title">{f.name}</span>
                <span className="meta">
                  {f.consecutiveFailures} failures in a row · last success {formatAgo(f.lastSuccessAt)}
                  {f.lastError ? ` · ${f.lastError}` : ''}
                </span>
              </div>
            </li>
          ))}
        </ul>
      )}

      <h2>Your devices</h2>
      <ul className="cards">
        {active.map((d, i) => (
          <DeviceCard key={d.id} device={d} open={i < 8} onChange={reload} />
        ))}
      </ul>
      {revoked.length > 0 && (
        <details>
          <summary>{revoked.length} revoked</summary>
          <ul className="plain-list">
            {revoked.map((d) => (
              <li key={d.id} className="row">
                <span className="name">
                  <span className="title">{d.name}</span>
                  <span className="meta">revoked {formatDate(d.revokedAt)}</span>
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

function DeviceCard({ device: d, open, onChange }: { device: Device; open: boolean; onChange: () => void }) {
  const { toast } = useApp();
  const [show, setShow] = useState(open);
  const history = useAsync(
    () =>
      show
        ? client.devices
            .syncHistory(d.id, { limit: 30 })
            .catch((e: unknown) => (isFerryApiError(e) && e.status === 404 ? null : Promise.reject(e)))
        : Promise.resolve(undefined),
    [d.id, show],
  );
  const [error, setError] = useState<unknown>(null);
  const newest = history.data?.events?.reduce<SyncEvent | undefined>(
    (a, e) => (!a || e.timestamp > a.timestamp ? e : a),
    undefined,
  );
  const last = d.lastSync
    ? { at: d.lastSync.at, status: d.lastSync.status }
    : newest && { at: newest.timestamp, status: newest.status };
  return (
    <li className="card device" data-device={d.name}>
      <div className="device-head">
        <span className="kind">
          <DeviceIcon kind={d.kind} />
        </span>
        <div className="name">
          <span className="title">
            {d.name} {d.current && <span className="badge">this device</span>}
          </span>
          <span className="meta">
            {d.kind} · last seen {formatAgo(d.lastSeenAt)} · last sync{' '}
            {last ? `${formatAgo(last.at)} (${last.status === 'ok' ? 'ok' : 'failed'})` : 'never'}
            {d.consecutiveFailures ? ` · ${d.consecutiveFailures} failures in a row` : ''}
          </span>
        </div>
        {!d.current && (
          <button
            type="button"
            className="danger"
            aria-label={`Revoke ${d.name}`}
            onClick={() =>
              void client.devices.revoke(d.id).then(() => {
                toast(`${d.name} revoked`);
                onChange();
              }, setError)
            }
          >
            Revoke
          </button>
        )}
      </div>
      <ErrorNote error={error ?? history.error} />
      {show ? (
        history.data === null ? (
          <p className="meta">Sync history is not available on this server yet.</p>
        ) : history.data ? (
          <SyncChart events={history.data.events} />
        ) : (
          <p className="meta">Loading history…</p>
        )
      ) : (
        <button type="button" className="ghost" onClick={() => setShow(true)}>
          Show sync history
        </button>
      )}
    </li>
  );
}
