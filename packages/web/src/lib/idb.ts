// Minimal promise wrapper over IndexedDB for the stores the app keeps offline: the upload queue
// (with the file bytes), the chunk plans of resumable uploads and the last-seen folder listings.

const DB_NAME = 'ferry';
const VERSION = 2;
export const QUEUE = 'upload-queue';
export const LISTINGS = 'listings';
/** Per queued item: its chunk hashes and commit opId (kept apart so the file's bytes are written once). */
export const UPLOAD_PLANS = 'upload-plans';

let dbp: Promise<IDBDatabase> | null = null;

function open(): Promise<IDBDatabase> {
  dbp ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(QUEUE)) db.createObjectStore(QUEUE, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(LISTINGS)) db.createObjectStore(LISTINGS);
      if (!db.objectStoreNames.contains(UPLOAD_PLANS)) db.createObjectStore(UPLOAD_PLANS, { keyPath: 'id' });
    };
    req.onsuccess = () => {
      // A newer version of the app opened in another tab: let it upgrade, reopen on next use.
      req.result.onversionchange = () => {
        req.result.close();
        dbp = null;
      };
      resolve(req.result);
    };
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
  return dbp;
}

function wrap<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

export async function idbGet<T>(store: string, key: IDBValidKey): Promise<T | undefined> {
  const db = await open();
  return wrap(db.transaction(store).objectStore(store).get(key)) as Promise<T | undefined>;
}

export async function idbGetAll<T>(store: string): Promise<T[]> {
  const db = await open();
  return wrap(db.transaction(store).objectStore(store).getAll()) as Promise<T[]>;
}

export async function idbPut(store: string, value: unknown, key?: IDBValidKey): Promise<void> {
  const db = await open();
  await wrap(db.transaction(store, 'readwrite').objectStore(store).put(value, key));
}

export async function idbDelete(store: string, key: IDBValidKey): Promise<void> {
  const db = await open();
  await wrap(db.transaction(store, 'readwrite').objectStore(store).delete(key));
}

export async function idbClear(store: string): Promise<void> {
  const db = await open();
  await wrap(db.transaction(store, 'readwrite').objectStore(store).clear());
}
