import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layers, lowest first: a module may import from its own layer and the layers before it.
// Layers that share a rank must not import each other: engine and agent meet only through etcd; units
// (the pure model) and metrics (prom-client, process state) know nothing of each other.
// bench/, scripts/, test/ and examples/ may import anything.
const LAYERS: readonly (readonly string[])[] = [
  ['units', 'metrics'],
  ['registry'],
  ['engine', 'agent'],
  ['api'],
  ['cli'],
];

// Ports: the runtimes own the interfaces of their stores (engine/store.ts, agent/store.ts: types and
// pure reducers over units/ only); registry/ implements them on etcd, so it may import exactly these.
const PORTS = new Set(['engine/store.ts', 'agent/store.ts']);

const ROOT = join(import.meta.dirname, '..', '..');
const rank = (layer: string): number => LAYERS.findIndex((l) => l.includes(layer));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Relative import targets of a module (static, re-exports and dynamic imports), repository-relative. */
function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => m[1] as string);
  return specs.map((s) => normalize(join(dirname(file), s)).replace(/\.js$/, '.ts'));
}

/** Every import that points the wrong way, as `from -> to`. */
function violations(): string[] {
  const out: string[] = [];
  for (const layer of LAYERS.flat()) {
    for (const file of sources(layer)) {
      for (const target of imports(file)) {
        const to = relative(ROOT, join(ROOT, target)).split('/')[0] as string;
        if (to === layer || rank(to) === -1) continue;
        if (PORTS.has(target)) {
          if (layer === 'registry' || rank(to) < rank(layer)) continue;
        } else if (rank(to) < rank(layer)) continue;
        out.push(`${file} -> ${target}`);
      }
    }
  }
  return out;
}

describe('layering', () => {
  it('imports point one way: units, metrics <- registry <- engine, agent <- api <- cli', () => {
    expect(violations()).toEqual([]);
  });

  it('the ports registry/ may import depend on units/ only', () => {
    const bad = [...PORTS].flatMap((port) =>
      imports(port)
        .filter((t) => !t.startsWith('units/'))
        .map((t) => `${port} -> ${t}`),
    );
    expect(bad).toEqual([]);
  });
});
