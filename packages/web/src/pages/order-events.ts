import { useEffect, useRef, useState } from 'react';

/** `live`: the event stream is up; `polling`: it is down and the page polls instead. */
export type OrderFeedMode = 'connecting' | 'live' | 'polling';

/** Changes in one burst (a tick of the server's feed) cause one reload, not one per order. */
const RELOAD_DEBOUNCE_MS = 250;
/** After EventSource gave up for good (e.g. the server refused it), open a new one this much later. */
const REOPEN_MS = 30_000;

/**
 * Follows `GET /api/v1/orders/events` (server-sent events, the session cookie authenticates it):
 * `ready` means the feed is live, so the list is reloaded once to close the gap since it was
 * loaded; each `order` event reloads it again. While the stream is down (`error`; EventSource
 * keeps retrying by itself) the mode is `polling` and the caller polls instead.
 */
export function useOrderEvents(reload: () => void): OrderFeedMode {
  const [mode, setMode] = useState<OrderFeedMode>('connecting');
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  useEffect(() => {
    if (typeof EventSource === 'undefined') { setMode('polling'); return; }
    let source: EventSource | undefined;
    let debounce: ReturnType<typeof setTimeout> | undefined;
    let reopen: ReturnType<typeof setTimeout> | undefined;
    const soon = () => { clearTimeout(debounce); debounce = setTimeout(() => reloadRef.current(), RELOAD_DEBOUNCE_MS); };
    const open = () => {
      source = new EventSource('/api/v1/orders/events');
      source.addEventListener('ready', () => { setMode('live'); soon(); });
      source.addEventListener('order', soon);
      source.addEventListener('error', () => {
        setMode('polling');
        if (source?.readyState === EventSource.CLOSED) { source.close(); reopen = setTimeout(open, REOPEN_MS); }
      });
    };
    open();
    return () => { clearTimeout(debounce); clearTimeout(reopen); source?.close(); };
  }, []);
  return mode;
}
