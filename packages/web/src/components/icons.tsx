// File-type icons as inline SVG: a folder, or a page with a coloured band and a short label.

import type { ReactNode } from 'react';
import type { DeviceKind } from '@ferry/client/api/index';
import type { FileType } from '../lib/format.ts';

const LOOK: Record<Exclude<FileType, 'folder'>, { color: string; label: string }> = {
  image: { color: '#2f9e44', label: 'IMG' },
  video: { color: '#c2255c', label: 'VID' },
  audio: { color: '#7048e8', label: 'AUD' },
  text: { color: '#1c7ed6', label: 'TXT' },
  code: { color: '#495057', label: '</>' },
  archive: { color: '#e67700', label: 'ZIP' },
  pdf: { color: '#e03131', label: 'PDF' },
  activity: { color: '#0c8599', label: 'FIT' },
  file: { color: '#868e96', label: '' },
};

export function FileIcon({ type, size = 32 }: { type: FileType; size?: number }) {
  if (type === 'folder') {
    return (
      <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" className="icon">
        <path
          d="M3 8a2 2 0 0 1 2-2h7l3 3h12a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z"
          fill="#f2b632"
        />
        <path d="M3 12h26v13a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z" fill="#fcc93b" />
      </svg>
    );
  }
  const { color, label } = LOOK[type];
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" className="icon">
      <path
        d="M7 3h13l6 6v19a1 1 0 0 1-1 1H7a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1z"
        fill="var(--icon-page)"
        stroke="var(--border)"
      />
      <path d="M20 3v6h6" fill="none" stroke="var(--border)" />
      <rect x="4" y="17" width="20" height="9" rx="1.5" fill={color} />
      <text
        x="14"
        y="24"
        textAnchor="middle"
        fontSize="7"
        fontWeight="700"
        fill="#fff"
        fontFamily="system-ui, sans-serif"
      >
        {label}
      </text>
    </svg>
  );
}

/** Device-kind icons (line drawings in the text colour; emoji fonts are not everywhere). */
const DEVICE_SHAPES: Record<DeviceKind, ReactNode> = {
  mobile: (
    <>
      <rect x="10" y="3" width="12" height="26" rx="2" />
      <path d="M14.5 25.5h3" />
    </>
  ),
  watch: (
    <>
      <rect x="9" y="9" width="14" height="14" rx="3" />
      <path d="M12 9V4h8v5M12 23v5h8v-5" />
    </>
  ),
  web: (
    <>
      <circle cx="16" cy="16" r="12" />
      <path d="M4 16h24M16 4c-4 4-4 20 0 24M16 4c4 4 4 20 0 24" />
    </>
  ),
  desktop: (
    <>
      <rect x="3" y="6" width="26" height="16" rx="1.5" />
      <path d="M1 26h30" />
    </>
  ),
  other: (
    <>
      <rect x="4" y="6" width="24" height="8" rx="1.5" />
      <rect x="4" y="18" width="24" height="8" rx="1.5" />
      <path d="M8 10h2M8 22h2" />
    </>
  ),
};

export function DeviceIcon({ kind, size = 32 }: { kind: DeviceKind; size?: number }) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 32 32"
      aria-hidden="true"
      className="icon"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
    >
      {/* A kind this version does not know yet (a newer server) draws as "other". */}
      {DEVICE_SHAPES[kind] ?? DEVICE_SHAPES.other}
    </svg>
  );
}
