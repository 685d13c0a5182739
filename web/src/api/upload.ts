// `POST /api/v1/files` (multipart, a `file` part) through XMLHttpRequest, which reports upload progress.

import type { FileInfo } from '../protocol';
import { ApiError, unreachable } from './http';

/** Called as bytes go out: the fraction sent, 0…1. */
export type UploadProgress = (fraction: number) => void;

export interface UploadOptions {
  token: () => string | null;
  refresh: () => Promise<string | null>;
  onProgress: UploadProgress;
  signal?: AbortSignal;
}

function parseError(xhr: XMLHttpRequest): ApiError {
  try {
    const body = JSON.parse(xhr.responseText) as { code?: string; message?: string };
    return new ApiError(xhr.status, body.code ?? `HTTP_${xhr.status}`, body.message ?? 'The upload failed');
  } catch {
    return new ApiError(xhr.status, `HTTP_${xhr.status}`, xhr.status === 413 ? 'The file is too large' : 'The upload failed');
  }
}

function attempt(file: File, token: string | null, options: UploadOptions): Promise<{ status: number; xhr: XMLHttpRequest }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/files');
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) options.onProgress(event.loaded / event.total);
    };
    xhr.onload = () => resolve({ status: xhr.status, xhr });
    xhr.onerror = () => reject(unreachable());
    xhr.onabort = () => reject(new DOMException('The upload was cancelled', 'AbortError'));
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

export async function uploadFile(file: File, options: UploadOptions): Promise<FileInfo> {
  let { status, xhr } = await attempt(file, options.token(), options);
  if (status === 401) {
    const token = await options.refresh();
    if (token) ({ status, xhr } = await attempt(file, token, options));
  }
  if (status < 200 || status >= 300) throw parseError(xhr);
  options.onProgress(1);
  return JSON.parse(xhr.responseText) as FileInfo;
}
