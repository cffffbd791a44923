// Helpers for fleetd config tests: resolve with an in-memory file system, catch the ConfigError.
import { expect } from 'vitest';
import { type ResolveInput, resolveFleetdConfig } from '../../cli/fleetd/config.js';
import { ConfigError, DEFAULT_CONFIG_FILE, type FleetdConfig } from '../../cli/fleetd/config-keys.js';

/** Resolves with an in-memory file system; `files` maps path -> contents. */
export function resolve(
  argv: string[] = [],
  env: Record<string, string | undefined> = {},
  files: Record<string, string> = {},
): { config: FleetdConfig; warnings: readonly string[] } {
  const input: ResolveInput = { argv, env, readFile: (p) => files[p] ?? null };
  const r = resolveFleetdConfig(input);
  if (r.kind !== 'run') throw new Error(`expected run, got ${r.kind}`);
  return r;
}

export function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

export const conf = (text: string): Record<string, string> => ({ [DEFAULT_CONFIG_FILE]: text });

/** An api_token long enough to be accepted (16+ bytes). */
export const TOKEN = 'token-0123456789abcdef';
