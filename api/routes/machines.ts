// /machines: list (GET), metadata (PATCH), and the fleet-ts extension /machines/<id>/drain.

import { validateMachineID } from '../../units/names.js';
import type { MachineState } from '../../units/types.js';
import { decodeMetadataOps } from '../decode.js';
import { apiMachine, apiPage } from '../entities.js';
import { ApiError, checkContentType, readBody, send, sendJSON } from '../http.js';
import { encodePageToken, pageOf } from '../page-token.js';
import { pageToken } from '../params.js';
import { type ApiCall, type ApiContext, type ApiRoute, byMethod } from '../route.js';

const METADATA_PATH = /^\/([^/]+)\/metadata\/([A-Za-z0-9_.-]+)$/;

export const machineRoutes: readonly ApiRoute[] = [
  {
    path: /^\/machines$/,
    serve: (call, ctx) =>
      byMethod(
        call,
        { GET: () => listMachines(call, ctx), PATCH: () => patchMachines(call, ctx) },
        'only GET and PATCH supported against this resource',
      ),
  },
  // fleet-ts extension: PUT/DELETE /machines/<id>/drain (docs/operations.md).
  {
    path: /^\/machines\/([^/]+)\/drain$/,
    serve: (call, ctx) => {
      let id: string;
      try {
        id = decodeURIComponent(call.params[0] as string);
      } catch {
        throw new ApiError(400, 'invalid machine ID');
      }
      const drain = (drained: boolean) => () => setDrained(call, ctx, id, drained);
      return byMethod(
        call,
        { PUT: drain(true), DELETE: drain(false) },
        'only PUT and DELETE supported against this resource',
      );
    },
  },
];

async function listMachines({ res, query }: ApiCall, ctx: ApiContext): Promise<void> {
  const tok = pageToken(query, ctx.tokenLimit);
  const registry = ctx.registry();
  const listings = ctx.listings<MachineState>('machines');
  const page = pageOf(await listings.get('', tok.page === 1, () => registry.listMachines()), tok);
  sendJSON(
    res,
    200,
    apiPage('machines', page.items.map(apiMachine), page.next && encodePageToken(page.next)),
  );
}

async function patchMachines({ req, res }: ApiCall, ctx: ApiContext): Promise<void> {
  checkContentType(req);
  const ops = decodeMetadataOps(await readBody(req, res, ctx.maxBodyBytes));
  // Everything is validated before anything is written, as fleet did.
  const writes: { machineID: string; key: string; value: string }[] = [];
  for (const op of ops) {
    if (op.op !== 'add' && op.op !== 'remove' && op.op !== 'replace') {
      throw new ApiError(400, 'invalid op: expect add, remove, or replace');
    }
    const m = METADATA_PATH.exec(op.path);
    const machineID = m?.[1];
    const key = m?.[2];
    if (
      machineID === undefined ||
      key === undefined ||
      validateMachineID(machineID) !== null ||
      /^\.+$/.test(key)
    ) {
      throw new ApiError(400, 'machine metadata path invalid');
    }
    if (op.op !== 'remove' && (op.value === undefined || op.value === '')) {
      throw new ApiError(400, 'invalid value: add and replace require a value');
    }
    // remove writes a tombstone, which also hides a key set in the machine's config.
    writes.push({ machineID, key, value: op.op === 'remove' ? '' : (op.value as string) });
  }
  const registry = ctx.registry();
  for (const w of writes) await registry.setMachineMetadata(w.machineID, w.key, w.value);
  send(res, 204);
}

async function setDrained({ res }: ApiCall, ctx: ApiContext, id: string, drained: boolean): Promise<void> {
  const registry = ctx.registry();
  if (!registry.setMachineDrained) throw new ApiError(501, 'drain is not available');
  if (!(await registry.listMachines()).some((m) => m.id === id))
    throw new ApiError(404, 'machine does not exist');
  await registry.setMachineDrained(id, drained);
  send(res, 204);
}
