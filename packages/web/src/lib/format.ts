// Human-readable sizes, dates and file-type icons.

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function formatDate(ms: number | null | undefined): string {
  return ms ? dateFmt.format(ms) : '—';
}

export function formatAgo(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return 'never';
  const s = Math.round((now - ms) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function formatSpeed(bytesPerSec: number): string {
  return `${formatSize(Math.round(bytesPerSec))}/s`;
}

/** Network speed as devices report it (Mbit/s). */
export function formatMbps(mbps: number): string {
  return `${mbps < 10 ? mbps.toFixed(1) : Math.round(mbps)} Mbit/s`;
}

export type FileType =
  'folder' | 'image' | 'video' | 'audio' | 'text' | 'code' | 'archive' | 'pdf' | 'activity' | 'file';

const EXT: Record<string, FileType> = {};
const add = (t: FileType, exts: string) => exts.split(' ').forEach((e) => (EXT[e] = t));
add('image', 'jpg jpeg png gif webp heic heif avif svg bmp tif tiff raw dng');
add('video', 'mp4 mov mkv webm avi m4v');
add('audio', 'mp3 wav flac ogg m4a aac opus');
add('text', 'txt md rtf csv log doc docx odt');
add('code', 'ts tsx js jsx json html css py go rs c h cpp java sh yml yaml toml xml sql');
add('archive', 'zip tar gz tgz bz2 xz 7z rar zst');
add('pdf', 'pdf');
add('activity', 'fit gpx tcx');

export function fileType(name: string, kind: 'file' | 'dir'): FileType {
  if (kind === 'dir') return 'folder';
  const dot = name.lastIndexOf('.');
  return (dot > 0 && EXT[name.slice(dot + 1).toLowerCase()]) || 'file';
}
