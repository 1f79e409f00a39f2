// A windowed list with fixed row height: only the rows in view (plus a margin) are in the DOM,
// so a folder of thousands of entries renders as fast as one of twenty. Scrolls with the page.

import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';

interface Props<T> {
  items: readonly T[];
  rowHeight: number;
  renderRow: (item: T, index: number) => ReactNode;
  getKey: (item: T) => string;
  overscan?: number;
  label: string;
}

export function VirtualList<T>({ items, rowHeight, renderRow, getKey, overscan = 8, label }: Props<T>) {
  const ref = useRef<HTMLDivElement>(null);
  const [range, setRange] = useState({ start: 0, end: 40 });

  const measure = () => {
    const el = ref.current;
    if (!el) return;
    const top = el.getBoundingClientRect().top; // relative to the viewport
    const first = Math.floor(Math.max(0, -top) / rowHeight);
    const visible = Math.ceil(window.innerHeight / rowHeight);
    const start = Math.max(0, first - overscan);
    const end = Math.min(items.length, first + visible + overscan);
    setRange((r) => (r.start === start && r.end === end ? r : { start, end }));
  };

  useLayoutEffect(measure, [items.length, rowHeight]);
  useEffect(() => {
    let frame = 0;
    const onScroll = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(measure);
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('resize', onScroll);
    };
  });

  const rows: ReactNode[] = [];
  for (let i = range.start; i < Math.min(range.end, items.length); i++) {
    const item = items[i];
    rows.push(
      <li
        key={getKey(item)}
        role="listitem"
        aria-setsize={items.length}
        aria-posinset={i + 1}
        style={{ top: i * rowHeight, height: rowHeight }}
      >
        {renderRow(item, i)}
      </li>,
    );
  }
  return (
    <div ref={ref} className="vlist" style={{ height: items.length * rowHeight }}>
      <ul role="list" aria-label={label}>
        {rows}
      </ul>
    </div>
  );
}
