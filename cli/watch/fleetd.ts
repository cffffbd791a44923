// fleetd's hook for `unit_watch_directory`: when set, this fleetd keeps the cluster's units converged
// to the directory (see ./README.md). Every fleetd configured with the same path shares ownership of
// the units (origin `watch:<path>`), so several hosts may watch copies of one directory.
import type { Namespace } from 'etcd3';
import { etcdRegistryOn } from '../../registry/etcd-registry.js';
import type { Logger } from '../../units/log.js';
import { startUnitDirWatcher, type UnitDirWatcher } from './watcher.js';

/** Starts the watcher when `unitWatchDirectory` is set; undefined otherwise. Stop it before closing `ns`. */
export function startFleetdUnitWatch(
  config: { readonly unitWatchDirectory: string },
  ns: Namespace,
  log: Logger,
): UnitDirWatcher | undefined {
  if (config.unitWatchDirectory === '') return undefined;
  const watcher = startUnitDirWatcher({ dir: config.unitWatchDirectory, registry: etcdRegistryOn(ns), log });
  log.info({ dir: config.unitWatchDirectory, origin: watcher.origin }, 'watching unit directory');
  return watcher;
}
