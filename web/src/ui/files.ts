// Files are protected (GET /api/v1/files/:id needs the bearer token), so an <img src> cannot
// load them: they are fetched with the token and shown from blob: URLs, kept in a small cache.

import { useEffect, useState } from 'react';
import type { Client } from '../app/client';

const cacheLimit = 150;
const cache = new Map<string, Promise<string>>();

/** A blob: URL for a file the user may read (fetched once, kept for the most recently used). */
export function blobUrl(client: Client, url: string): Promise<string> {
  const hit = cache.get(url);
  if (hit) {
    cache.delete(url);
    cache.set(url, hit);
    return hit;
  }
  const loading = client.api.files.download(url).then((blob) => URL.createObjectURL(blob));
  loading.catch(() => cache.delete(url));
  cache.set(url, loading);
  while (cache.size > cacheLimit) {
    const [oldest, evicted] = cache.entries().next().value as [string, Promise<string>];
    cache.delete(oldest);
    void evicted.then((objectUrl) => URL.revokeObjectURL(objectUrl)).catch(() => undefined);
  }
  return loading;
}

export function useBlobUrl(client: Client, url: string | null): { src: string | null; failed: boolean } {
  const [state, setState] = useState<{ src: string | null; failed: boolean }>({ src: null, failed: false });
  useEffect(() => {
    if (!url) return;
    let live = true;
    blobUrl(client, url)
      .then((src) => live && setState({ src, failed: false }))
      .catch(() => live && setState({ src: null, failed: true }));
    return () => {
      live = false;
    };
  }, [client, url]);
  return state;
}

/** Saves a protected file under its name. */
export async function download(client: Client, url: string, name: string): Promise<void> {
  const href = await blobUrl(client, url);
  const link = document.createElement('a');
  link.href = href;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
}

export function isImage(mimeType: string): boolean {
  return /^image\/(png|jpeg|gif|webp|avif|bmp)$/.test(mimeType);
}
