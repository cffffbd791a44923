#!/usr/bin/env node
// Single-file CommonJS bundles of fleetctl and fleetd (esbuild) that need only the host's node (>= 20).
//   node scripts/package/bundle.mjs [OUT_DIR]     (default out/bundle) -> OUT_DIR/fleetctl.cjs, fleetd.cjs
// Exported as bundle() for scripts/package/build.mjs and for tests.
// Design notes (why CommonJS): docs/architecture.md, "scripts/package/bundle.mjs".
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildConsole } from '../build-console.mjs';
import { withCodeCache } from './code-cache.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
export const PROGRAMS = ['fleetctl', 'fleetd'];
/** Started often and briefly, so it loads itself with a V8 code cache (code-cache.mjs); fleetd starts once. */
const CODE_CACHED = new Set(['fleetctl']);

// etcd3 reads its gRPC service definition from ../proto/rpc.proto next to its own files when it is
// loaded. A bundle has no such files, so the definition is parsed here at build time and embedded as
// protobuf JSON, which grpc-services.cjs turns into the service definitions proto-loader would build.
const GRPC_SERVICES = fileURLToPath(new URL('./grpc-services.cjs', import.meta.url));
function etcdProtoPlugin() {
  const requireFromEtcd = createRequire(join(ROOT, 'node_modules/etcd3/package.json'));
  const requireFromLoader = createRequire(requireFromEtcd.resolve('@grpc/proto-loader'));
  return {
    name: 'etcd3-embedded-proto',
    setup(b) {
      b.onLoad({ filter: /etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const call = /\(0, proto_loader_1\.loadSync\)\(`\$\{__dirname\}\/\.\.\/proto\/rpc\.proto`,/;
        if (!call.test(source)) throw new Error(`etcd3 changed how it loads rpc.proto: ${args.path}`);
        const protobuf = requireFromLoader('protobufjs');
        const root = new protobuf.Root();
        root.loadSync(join(dirname(args.path), '../proto/rpc.proto'), { keepCase: true });
        const json = JSON.stringify(root.toJSON());
        // proto-loader itself (and protobufjs's descriptor extension it loads) is then never needed.
        const loader = 'const proto_loader_1 = require("@grpc/proto-loader");';
        if (source.split('proto_loader_1').length !== 3 || !source.includes(loader))
          throw new Error(`etcd3 changed how it uses @grpc/proto-loader: ${args.path}`);
        const services = `require(${JSON.stringify(GRPC_SERVICES)}).serviceDefinitions(require("protobufjs/light"), ${json},`;
        return { contents: source.replace(loader, '').replace(call, services), loader: 'js' };
      });
    },
  };
}

/** esbuild options shared by the bundles and the self-contained executable (sea.mjs). */
export function bundleOptions() {
  return {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    // The shebang of the entry file is kept by esbuild (above the banner). ES modules inside the
    // bundle that compute paths from import.meta.url get the bundle's own URL.
    banner: { js: '"use strict";var __bundle_url=require("node:url").pathToFileURL(__filename).href;' },
    // The web console's page, script and stylesheet (api/ui/assets.ts), built from api/ui/client/.
    define: {
      __FLEET_TS_VERSION__: JSON.stringify(VERSION),
      __FLEET_TS_CONSOLE__: JSON.stringify(buildConsole()),
      'import.meta.url': '__bundle_url',
    },
    // ssh2's optional native helpers (built by its install script, which we never run); ssh2 falls
    // back to its JavaScript implementations when they are missing.
    external: ['cpu-features', '*.node'],
    plugins: [etcdProtoPlugin()],
    logLevel: 'warning',
  };
}

/** Builds OUT_DIR/fleetctl.cjs and OUT_DIR/fleetd.cjs; returns their paths. */
export async function bundle(outDir = join(ROOT, 'out/bundle')) {
  mkdirSync(outDir, { recursive: true });
  const outputs = [];
  for (const name of PROGRAMS) {
    const outfile = join(outDir, `${name}.cjs`);
    const result = await build({
      ...bundleOptions(),
      entryPoints: [join(ROOT, 'cli', `${name}.ts`)],
      outfile,
    });
    if (result.errors.length > 0) throw new Error(`esbuild failed for ${name}`);
    if (CODE_CACHED.has(name)) writeFileSync(outfile, withCodeCache(readFileSync(outfile, 'utf8'), name));
    chmodSync(outfile, 0o755);
    outputs.push(outfile);
  }
  return outputs;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await bundle(process.argv[2] ? resolve(process.argv[2]) : undefined);
  for (const f of out) process.stdout.write(`${f}\n`);
}
