// A small runtime description of JSON values, from which the TypeScript types are inferred, so a
// wire type is written once: the compiler checks the code against it, `conforms` checks what comes
// off the wire, and the protocol test checks it against the AsyncAPI document.
//
//   const Author = s.object({ id: s.uuid, username: s.string, avatarUrl: s.nullable(s.string) });
//   type Author = Infer<typeof Author>; // { id: string; username: string; avatarUrl: string | null }

export interface StringShape {
  readonly kind: 'string';
  readonly format?: 'uuid' | 'date-time';
}
export interface IntegerShape {
  readonly kind: 'integer';
}
export interface NumberShape {
  readonly kind: 'number';
}
export interface BooleanShape {
  readonly kind: 'boolean';
}
export interface EnumShape<V extends string = string> {
  readonly kind: 'enum';
  readonly values: readonly V[];
}
export interface ArrayShape<I extends Shape = Shape> {
  readonly kind: 'array';
  readonly items: I;
}
export interface ObjectShape<F extends Fields = Fields> {
  readonly kind: 'object';
  readonly fields: F;
}
export interface NullableShape<I extends Shape = Shape> {
  readonly kind: 'nullable';
  readonly inner: I;
}
/** Any JSON value, passed on without being read (a WebRTC description or candidate). */
export interface JsonShape {
  readonly kind: 'json';
}

export type Shape =
  | StringShape
  | IntegerShape
  | NumberShape
  | BooleanShape
  | EnumShape
  | ArrayShape
  | ObjectShape
  | NullableShape
  | JsonShape;

/** A field that may be absent. */
export interface Optional<S extends Shape = Shape> {
  readonly kind: 'optional';
  readonly shape: S;
}

export type Field = Shape | Optional;
export type Fields = { readonly [name: string]: Field };

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends Optional ? K : never }[keyof F];
type RequiredKeys<F extends Fields> = Exclude<keyof F, OptionalKeys<F>>;
type InferFields<F extends Fields> = Simplify<
  { [K in RequiredKeys<F>]: Infer<F[K]> } & {
    [K in OptionalKeys<F>]?: F[K] extends Optional<infer S> ? Infer<S> : never;
  }
>;

/** The TypeScript type of the values a shape describes. */
export type Infer<S> = S extends StringShape
  ? string
  : S extends IntegerShape | NumberShape
  ? number
  : S extends BooleanShape
  ? boolean
  : S extends EnumShape<infer V>
  ? V
  : S extends ArrayShape<infer I>
  ? Infer<I>[]
  : S extends ObjectShape<infer F>
  ? InferFields<F>
  : S extends NullableShape<infer I>
  ? Infer<I> | null
  : S extends JsonShape
  ? JsonValue
  : S extends Optional<infer I>
  ? Infer<I>
  : never;

const string: StringShape = { kind: 'string' };
const uuid: StringShape = { kind: 'string', format: 'uuid' };
const dateTime: StringShape = { kind: 'string', format: 'date-time' };
const integer: IntegerShape = { kind: 'integer' };
const number: NumberShape = { kind: 'number' };
const boolean: BooleanShape = { kind: 'boolean' };
const json: JsonShape = { kind: 'json' };

/** The builders. */
export const s = {
  string,
  uuid,
  dateTime,
  integer,
  number,
  boolean,
  json,
  enumOf<V extends string>(...values: V[]): EnumShape<V> {
    return { kind: 'enum', values };
  },
  array<I extends Shape>(items: I): ArrayShape<I> {
    return { kind: 'array', items };
  },
  object<F extends Fields>(fields: F): ObjectShape<F> {
    return { kind: 'object', fields };
  },
  nullable<I extends Shape>(inner: I): NullableShape<I> {
    return { kind: 'nullable', inner };
  },
  optional<S extends Shape>(shape: S): Optional<S> {
    return { kind: 'optional', shape };
  },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Where `value` differs from `shape`, as a path ("message.author.id"), or null when it conforms.
 * Fields the shape does not name are allowed (the server may add some).
 */
export function mismatch(shape: Shape, value: unknown, path = '$'): string | null {
  switch (shape.kind) {
    case 'string':
      return typeof value === 'string' ? null : path;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? null : path;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : path;
    case 'boolean':
      return typeof value === 'boolean' ? null : path;
    case 'enum':
      return typeof value === 'string' && shape.values.includes(value) ? null : path;
    case 'json':
      return value === undefined ? path : null;
    case 'nullable':
      return value === null ? null : mismatch(shape.inner, value, path);
    case 'array': {
      if (!Array.isArray(value)) return path;
      for (let index = 0; index < value.length; index += 1) {
        const found = mismatch(shape.items, value[index], `${path}[${index}]`);
        if (found) return found;
      }
      return null;
    }
    case 'object': {
      if (!isRecord(value)) return path;
      for (const [name, field] of Object.entries(shape.fields)) {
        const item = value[name];
        if (field.kind === 'optional') {
          if (item === undefined || item === null) continue;
          const found = mismatch(field.shape, item, `${path}.${name}`);
          if (found) return found;
        } else {
          const found = mismatch(field, item, `${path}.${name}`);
          if (found) return found;
        }
      }
      return null;
    }
  }
}

/** Whether `value` is what `shape` describes (a type guard for data off the wire). */
export function conforms<S extends Shape>(shape: S, value: unknown): value is Infer<S> {
  return mismatch(shape, value) === null;
}
