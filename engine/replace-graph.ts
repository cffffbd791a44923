// Which unit replaces which (X-Fleet `Replaces=`), with circular relations dropped.
// Design notes: docs/architecture.md, "engine/replace-graph.ts".

import { GlobIndex, isGlob } from './glob-index.js';

export interface ReplaceInput {
  readonly name: string;
  readonly replaces: readonly string[];
}

export interface ReplaceRelation {
  /** unit -> units that replace it (sorted by name). */
  readonly replacers: ReadonlyMap<string, readonly string[]>;
  /** unit -> units it replaces (sorted by name). */
  readonly targets: ReadonlyMap<string, readonly string[]>;
}

/** Raw edges R -> X for every pair where one of R's Replaces patterns matches X (R ≠ X). */
function rawEdges(units: readonly ReplaceInput[]): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  const index = new GlobIndex();
  const holders: string[][] = [];
  const known = new Set(units.map((u) => u.name));
  const addEdge = (from: string, to: string): void => {
    if (from === to) return;
    let set = edges.get(from);
    if (!set) {
      set = new Set();
      edges.set(from, set);
    }
    set.add(to);
  };
  for (const u of units) {
    for (const pattern of u.replaces) {
      if (pattern === '') continue;
      if (isGlob(pattern)) {
        const id = index.add(pattern);
        const list = holders[id];
        if (list) list.push(u.name);
        else holders[id] = [u.name];
      } else if (known.has(pattern)) {
        addEdge(u.name, pattern);
      }
    }
  }
  if (index.size > 0) {
    for (const x of units) {
      for (const id of index.matching(x.name)) {
        for (const r of holders[id] ?? []) addEdge(r, x.name);
      }
    }
  }
  return edges;
}

/** Component id of every node that has edges (iterative Tarjan: no recursion limit at 10k units). */
function stronglyConnected(edges: ReadonlyMap<string, ReadonlySet<string>>): Map<string, number> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const component = new Map<string, number>();
  let counter = 0;
  let components = 0;
  const nodes = [...edges.keys()].sort();
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; next: Iterator<string> }[] = [];
    const visit = (node: string): void => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, next: (edges.get(node) ?? new Set<string>()).values() });
    };
    visit(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const step = frame.next.next();
      if (!step.done) {
        const to = step.value;
        if (!index.has(to)) visit(to);
        else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        let member: string | undefined;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.set(member, components);
        } while (member !== frame.node);
        components++;
      }
    }
  }
  return component;
}

export function effectiveReplaces(units: readonly ReplaceInput[]): ReplaceRelation {
  const edges = rawEdges(units);
  const replacers = new Map<string, string[]>();
  const targets = new Map<string, string[]>();
  if (edges.size === 0) return { replacers, targets };
  const component = stronglyConnected(edges);
  for (const [from, tos] of edges) {
    for (const to of tos) {
      if (component.get(from) === component.get(to)) continue; // circular: ignored
      const t = targets.get(from);
      if (t) t.push(to);
      else targets.set(from, [to]);
      const r = replacers.get(to);
      if (r) r.push(from);
      else replacers.set(to, [from]);
    }
  }
  for (const list of targets.values()) list.sort();
  for (const list of replacers.values()) list.sort();
  return { replacers, targets };
}
