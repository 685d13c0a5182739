// JSON over fetch for the REST API: the access token in an Authorization header, errors as
// `ApiError` with the server's stable code, one refresh-and-retry when a token turns out expired.

/** A failed call: the HTTP status (0 when the server could not be reached) and the server's `{code, message}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Readonly<Record<string, string>>,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Readonly<Record<string, string | number | undefined>>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  /** Send the access token (default true). */
  auth?: boolean;
  signal?: AbortSignal;
}

export interface HttpDependencies {
  /** The access token in hand, if any. */
  token: () => string | null;
  /** A fresh token after a 401, or null when the session is over. */
  refresh: () => Promise<string | null>;
  fetch?: typeof fetch;
}

function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get('Retry-After');
  if (!header) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

/** Reads a failed response's `{code, message, details}`. */
export async function errorOf(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || 'The request failed';
  let details: Record<string, string> | undefined;
  try {
    const body = (await response.json()) as { code?: unknown; message?: unknown; details?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.message === 'string') message = body.message;
    if (body.details && typeof body.details === 'object') details = body.details as Record<string, string>;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  return new ApiError(response.status, code, message, details, retryAfterMs(response));
}

export const unreachable = (): ApiError => new ApiError(0, 'NETWORK', 'Cannot reach the server');

export function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export class Http {
  private readonly fetcher: typeof fetch;

  constructor(private readonly dependencies: HttpDependencies) {
    this.fetcher = dependencies.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Calls the API and reads the JSON answer. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    return (await response.json()) as T;
  }

  /** Calls the API and gives the status with the JSON answer (for routes whose status means something, like 202). */
  async jsonWithStatus<T>(method: string, path: string, options: RequestOptions = {}): Promise<{ status: number; body: T }> {
    const response = await this.send(method, path, options);
    return { status: response.status, body: (await response.json()) as T };
  }

  /** Fetches a protected file's bytes. */
  async blob(path: string, signal?: AbortSignal): Promise<Blob> {
    const response = await this.send('GET', path, signal ? { signal } : {});
    return response.blob();
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const auth = options.auth ?? true;
    let response = await this.attempt(method, path, options, auth ? this.dependencies.token() : null);
    if (response.status === 401 && auth) {
      const token = await this.dependencies.refresh();
      if (token) response = await this.attempt(method, path, options, token);
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  private async attempt(method: string, path: string, options: RequestOptions, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers, credentials: 'same-origin' };
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;
    try {
      return await this.fetcher(withQuery(path, options.query), init);
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw unreachable();
    }
  }
}
