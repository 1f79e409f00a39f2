// The offline upload queue on its own page.

import { UploadList } from '../components/upload-list.tsx';

export default function QueueScreen() {
  return (
    <section aria-labelledby="queue-title">
      <h1 id="queue-title">Uploads</h1>
      <p className="meta">
        Files you add are stored on this device first and sent as soon as the server can be reached, even
        after a reload.
      </p>
      <UploadList />
    </section>
  );
}
