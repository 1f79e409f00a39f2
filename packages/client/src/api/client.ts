// FerryClient: the isomorphic SDK's entry point, one property per API group.

import { AuthApi } from './auth-api.ts';
import { DevicesApi } from './devices-api.ts';
import { FilesApi } from './files-api.ts';
import { SharesApi } from './shares-api.ts';
import { SpacesApi } from './spaces-api.ts';
import { SyncApi } from './sync-api.ts';
import { Transport, type TransportOptions } from './transport.ts';
import { TrashApi } from './trash-api.ts';
import type { Session } from './types.ts';
import { UsersApi } from './users-api.ts';

export type FerryClientOptions = TransportOptions;

export class FerryClient {
  /** The shared HTTP layer; new API groups (e.g. sync) are built on it. */
  readonly transport: Transport;
  readonly auth: AuthApi;
  readonly files: FilesApi;
  readonly spaces: SpacesApi;
  readonly trash: TrashApi;
  readonly shares: SharesApi;
  readonly devices: DevicesApi;
  readonly users: UsersApi;
  readonly sync: SyncApi;

  constructor(options: FerryClientOptions = {}) {
    this.transport = new Transport(options);
    this.auth = new AuthApi(this.transport);
    this.files = new FilesApi(this.transport);
    this.spaces = new SpacesApi(this.transport);
    this.trash = new TrashApi(this.transport);
    this.shares = new SharesApi(this.transport);
    this.devices = new DevicesApi(this.transport);
    this.users = new UsersApi(this.transport);
    this.sync = new SyncApi(this.transport);
  }

  get session(): Session | null {
    return this.transport.session;
  }
}
