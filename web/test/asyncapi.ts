// Compares the client's copy of the socket protocol (src/protocol.ts) with the AsyncAPI document:
// every event the client declares must be in the document, in the right direction, and every field
// the client reads or sends must be there with a compatible type.

import { Field, Shape } from '../src/schema';

/** A JSON Schema node of the document, as far as the comparison reads it. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: (string | null)[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
}

interface MessageObject {
  $ref?: string;
  name?: string;
  payload?: JsonSchema;
}

interface Operation {
  action: 'send' | 'receive';
  messages: MessageObject[];
  reply?: { messages: MessageObject[] };
}

export interface AsyncApiDocument {
  operations: Record<string, Operation>;
  components: { schemas: Record<string, JsonSchema>; messages: Record<string, MessageObject> };
  channels: Record<string, { messages: Record<string, MessageObject> }>;
}

/** `in`: the server sends it and the client reads it; `out`: the client sends it. */
export type Direction = 'in' | 'out';

export class ProtocolDocument {
  constructor(private readonly document: AsyncApiDocument) {}

  /** Follows a local `$ref` ("#/components/schemas/Uuid") to what it names. */
  private pointer(ref: string): unknown {
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
    let node: unknown = this.document;
    for (const part of ref.slice(2).split('/')) {
      if (typeof node !== 'object' || node === null) throw new Error(`dangling $ref ${ref}`);
      node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    if (node === undefined) throw new Error(`dangling $ref ${ref}`);
    return node;
  }

  schema(node: JsonSchema): JsonSchema {
    let current = node;
    while (current.$ref) current = this.pointer(current.$ref) as JsonSchema;
    return current;
  }

  message(node: MessageObject): MessageObject {
    let current = node;
    while (current.$ref) current = this.pointer(current.$ref) as MessageObject;
    return current;
  }

  /** The operations that carry the event `name`: `receive` ones for client events, `send` for server events. */
  operations(name: string, direction: Direction): Operation[] {
    const action = direction === 'out' ? 'receive' : 'send';
    return Object.values(this.document.operations).filter(
      (operation) => operation.action === action && operation.messages.some((m) => this.message(m).name === name),
    );
  }

  payload(name: string, direction: Direction): JsonSchema | undefined {
    const operation = this.operations(name, direction)[0];
    const message = operation?.messages.map((m) => this.message(m)).find((m) => m.name === name);
    return message?.payload;
  }

  replies(name: string): JsonSchema[] {
    const operation = this.operations(name, 'out')[0];
    return (operation?.reply?.messages ?? []).flatMap((m) => {
      const payload = this.message(m).payload;
      return payload ? [payload] : [];
    });
  }
}

function typesOf(schema: JsonSchema): Set<string> {
  if (schema.type === undefined) {
    if (schema.enum) return new Set(schema.enum.map((value) => (value === null ? 'null' : typeof value)));
    return new Set(['any']);
  }
  return new Set(Array.isArray(schema.type) ? schema.type : [schema.type]);
}

function allows(types: Set<string>, type: string): boolean {
  return types.has('any') || types.has(type) || (type === 'integer' && types.has('number'));
}

/**
 * The differences between a client shape and the document's schema, one line each ("" at the
 * root path means none). `in`: the document must promise every field the client needs; `out`:
 * the document must accept what the client sends, and the client must send what it requires.
 */
export function differences(
  doc: ProtocolDocument,
  shape: Shape,
  node: JsonSchema,
  direction: Direction,
  path: string,
  nullable = false,
): string[] {
  const schema = doc.schema(node);
  const types = typesOf(schema);
  const problems: string[] = [];
  const expect = (type: string): boolean => {
    if (allows(types, type)) return true;
    problems.push(`${path}: the client has ${type}, the document ${[...types].join('|')}`);
    return false;
  };
  if (direction === 'in' && !nullable && shape.kind !== 'nullable' && shape.kind !== 'json' && types.has('null')) {
    problems.push(`${path}: the document allows null, the client does not expect it`);
  }
  switch (shape.kind) {
    case 'json':
      break;
    case 'string':
      if (expect('string') && shape.format && schema.format !== shape.format) {
        problems.push(`${path}: the client has format ${shape.format}, the document ${schema.format ?? 'none'}`);
      }
      break;
    case 'integer':
      expect('integer');
      break;
    case 'number':
      if (!allows(types, 'number') && !allows(types, 'integer')) expect('number');
      break;
    case 'boolean':
      expect('boolean');
      break;
    case 'nullable':
      if (direction === 'out') expect('null');
      problems.push(...differences(doc, shape.inner, schema, direction, path, true));
      break;
    case 'enum': {
      if (!expect('string')) break;
      const documented = (schema.enum ?? []).filter((value): value is string => value !== null);
      if (documented.length === 0) break; // any string: every value the client has is allowed
      const [from, to, side] =
        direction === 'in' ? [documented, shape.values, 'the document'] : [shape.values, documented, 'the client'];
      for (const value of from) {
        if (!to.includes(value)) problems.push(`${path}: ${side} has the value ${value} the other side lacks`);
      }
      break;
    }
    case 'array':
      if (expect('array')) {
        if (!schema.items) problems.push(`${path}: the document does not describe the items`);
        else problems.push(...differences(doc, shape.items, schema.items, direction, `${path}[]`));
      }
      break;
    case 'object': {
      if (!expect('object')) break;
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      for (const [name, field] of Object.entries(shape.fields) as [string, Field][]) {
        const at = `${path}.${name}`;
        const property = properties[name];
        if (!property) {
          problems.push(`${at}: not in the document`);
          continue;
        }
        const optional = field.kind === 'optional';
        if (direction === 'in' && !optional && !required.has(name)) {
          problems.push(`${at}: the client needs it, the document does not require it`);
        }
        problems.push(...differences(doc, field.kind === 'optional' ? field.shape : field, property, direction, at));
      }
      if (direction === 'out') {
        for (const name of required) {
          const field = shape.fields[name];
          if (!field || field.kind === 'optional') problems.push(`${path}.${name}: the document requires it, the client may not send it`);
        }
      }
      break;
    }
  }
  return problems;
}
