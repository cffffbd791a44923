// Request bodies decoded the way fleet's Go server decoded them (encoding/json into a struct):
// field names match exactly or case-insensitively, unknown fields are ignored, `null` leaves a field
// empty, a value of the wrong JSON type is an error. Pure: text in, value or error message out.

import { errorMessage } from '../units/common.js';

export class BodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BodyError';
  }
}

export interface UnitBody {
  readonly name: string;
  readonly desiredState: string;
  readonly options: readonly { readonly section: string; readonly name: string; readonly value: string }[];
}

export interface MetadataOp {
  readonly op: string;
  readonly path: string;
  /** undefined when absent or null. */
  readonly value: string | undefined;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function jsonType(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** Deepest JSON nesting a body may have; fleet's bodies need 3 levels. */
export const MAX_JSON_DEPTH = 32;

/**
 * Refuses nesting deeper than MAX_JSON_DEPTH before JSON.parse sees it: parsing 1 MiB of `[[[…]]]`
 * took JSON.parse 0.4 s of CPU (over 1 s of blocked event loop on a busy host). Linear, skips strings.
 */
function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new BodyError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels at offset ${i}`);
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
}

function parseJson(text: string): Json {
  if (text.trim() === '') throw new BodyError('EOF');
  checkDepth(text);
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new BodyError(errorMessage(err));
  }
}

/** Go's field lookup: exact match, else case-insensitive; with duplicates the last one wins. */
function fields(obj: { [k: string]: Json }, known: readonly string[]): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const [k, v] of Object.entries(obj)) {
    const field = known.includes(k) ? k : known.find((f) => f.toLowerCase() === k.toLowerCase());
    if (field !== undefined) out.set(field, v);
  }
  return out;
}

function stringField(v: Json | undefined, where: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') {
    throw new BodyError(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${where} of type string`);
  }
  return v;
}

const isObject = (v: Json): v is { [k: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Body of `PUT /units/<name>`. */
export function decodeUnitBody(text: string): UnitBody {
  const root = parseJson(text);
  if (root === null) return { name: '', desiredState: '', options: [] };
  if (!isObject(root))
    throw new BodyError(`json: cannot unmarshal ${jsonType(root)} into Go value of type schema.Unit`);
  const f = fields(root, ['currentState', 'desiredState', 'machineID', 'name', 'options']);
  // currentState and machineID are read-only: type-checked like fleet, then ignored.
  stringField(f.get('currentState'), 'Unit.currentState');
  stringField(f.get('machineID'), 'Unit.machineID');
  const rawOptions = f.get('options');
  const options: UnitBody['options'][number][] = [];
  if (rawOptions !== undefined && rawOptions !== null) {
    if (!Array.isArray(rawOptions)) {
      throw new BodyError(
        `json: cannot unmarshal ${jsonType(rawOptions)} into Go struct field Unit.options of type []*schema.UnitOption`,
      );
    }
    for (const [i, o] of rawOptions.entries()) {
      // fleet crashed on a null option (nil pointer); it is refused here.
      if (!isObject(o)) {
        throw new BodyError(
          `options[${i}]: expected an object with section, name and value, got ${jsonType(o)}`,
        );
      }
      const of = fields(o, ['name', 'section', 'value']);
      options.push({
        section: stringField(of.get('section'), 'UnitOption.section'),
        name: stringField(of.get('name'), 'UnitOption.name'),
        value: stringField(of.get('value'), 'UnitOption.value'),
      });
    }
  }
  return {
    name: stringField(f.get('name'), 'Unit.name'),
    desiredState: stringField(f.get('desiredState'), 'Unit.desiredState'),
    options,
  };
}

/** Body of `PATCH /machines`: `[{"op","path","value":{"value":"v"}}]` (the value is nested, as in fleet). */
export function decodeMetadataOps(text: string): MetadataOp[] {
  const root = parseJson(text);
  if (root === null) return [];
  if (!Array.isArray(root)) {
    throw new BodyError(
      `json: cannot unmarshal ${jsonType(root)} into Go value of type []*schema.MachineMetadataOp`,
    );
  }
  return root.map((item, i) => {
    if (item === null) return { op: '', path: '', value: undefined };
    if (!isObject(item)) {
      throw new BodyError(
        `json: cannot unmarshal ${jsonType(item)} into Go value of type schema.MachineMetadataOp (element ${i})`,
      );
    }
    const f = fields(item, ['op', 'path', 'value']);
    const rawValue = f.get('value');
    let value: string | undefined;
    if (rawValue !== undefined && rawValue !== null) {
      if (!isObject(rawValue)) {
        throw new BodyError(
          `json: cannot unmarshal ${jsonType(rawValue)} into Go struct field MachineMetadataOp.value of type struct { Value string }`,
        );
      }
      const vf = fields(rawValue, ['value']);
      value = stringField(vf.get('value'), 'MachineMetadataOp.value.value');
    }
    return {
      op: stringField(f.get('op'), 'MachineMetadataOp.op'),
      path: stringField(f.get('path'), 'MachineMetadataOp.path'),
      value,
    };
  });
}
