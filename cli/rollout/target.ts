// Which units a rolling update of a template touches, pure: the launched instances are rolled (those on
// other contents, plus those already on the new contents but not yet proven, e.g. after an interrupted
// update); instances that do not run and the template itself are written after the roll succeeded.
import type { UnitWithTarget } from '../../registry/types.js';
import { parseUnitName } from '../../units/names.js';
import type { UnitOption } from '../../units/types.js';
import type { RolloutInstance } from './plan.js';

export interface RolloutScope {
  readonly instances: readonly RolloutInstance[];
  /** Not launched instances and the template unit whose contents differ: written after success. */
  readonly afterwards: readonly UnitWithTarget[];
  readonly contents: ReadonlyMap<string, readonly UnitOption[]>;
  /** No launched instance runs other contents: there is nothing to roll. */
  readonly upToDate: boolean;
}

export const templateOfUnit = (name: string): string | undefined => {
  const info = parseUnitName(name);
  return info.isInstance ? info.template : undefined;
};

export function rolloutScope(
  units: readonly UnitWithTarget[],
  template: string,
  newHash: string,
  newOptions: readonly UnitOption[],
): RolloutScope {
  const contents = new Map<string, readonly UnitOption[]>([[newHash, newOptions]]);
  const instances = units
    .filter((u) => templateOfUnit(u.name) === template)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const u of units) if (u.name === template || instances.includes(u)) contents.set(u.hash, u.options);
  const launched = instances.filter((u) => u.desiredState === 'launched');
  const stale = launched.filter((u) => u.hash !== newHash);
  // What an instance already on the new contents goes back to: what most of the others run.
  const tally = new Map<string, number>();
  for (const u of stale) tally.set(u.hash, (tally.get(u.hash) ?? 0) + 1);
  const templateUnit = units.find((u) => u.name === template);
  let previous = [...tally].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (previous === undefined && templateUnit && templateUnit.hash !== newHash) previous = templateUnit.hash;
  const afterwards = [
    ...(templateUnit && templateUnit.hash !== newHash ? [templateUnit] : []),
    ...instances.filter((u) => u.desiredState !== 'launched' && u.hash !== newHash),
  ];
  return {
    instances:
      stale.length === 0
        ? []
        : launched.map((u) => ({
            name: u.name,
            hash: u.hash,
            ...(u.hash === newHash && previous !== undefined ? { rollbackHash: previous } : {}),
          })),
    afterwards,
    contents,
    upToDate: stale.length === 0,
  };
}
