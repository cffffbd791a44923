// fleet-ts extension for the web console (docs/console.md), below /fleet/v1/console/: GET snapshot,
// GET units/<name> (a unit and its file), GET units/<name>/journal (?lines=N, ?machine=ID; another
// machine's journal is read by its fleetd via etcd). Writes go through the API's own routes.
// Design notes: docs/architecture.md, "api/ui/routes.ts".

import { JournalRelayError } from '../../registry/journal-relay.js';
import { serializeUnit } from '../../units/serialize.js';
import { ApiError, sendJSON } from '../http.js';
import { itemName } from '../params.js';
import { type ApiContext, type ApiRoute, byMethod } from '../route.js';
import { MAX_JOURNAL_LINES } from './journal.js';
import type { ConsoleJournal, ConsoleUnitDetail } from './schema.js';
import { consoleUnit, readSnapshot } from './snapshot.js';

const GET_ONLY = 'only GET supported against this resource';

export const uiRoutes: readonly ApiRoute[] = [
  {
    path: /^\/console\/snapshot$/,
    serve: (call, ctx) =>
      byMethod(
        call,
        { GET: async () => sendJSON(call.res, 200, await readSnapshot(ctx.registry())) },
        GET_ONLY,
      ),
  },
  {
    path: /^\/console\/units\/([^/]+)\/journal$/,
    serve: (call, ctx) => {
      const name = itemName(call.params[0] as string);
      return byMethod(call, { GET: () => journal(call.query, call.res, ctx, name) }, GET_ONLY);
    },
  },
  {
    path: /^\/console\/units\/([^/]+)$/,
    serve: (call, ctx) => {
      const name = itemName(call.params[0] as string);
      return byMethod(call, { GET: () => unitDetail(call.res, ctx, name) }, GET_ONLY);
    },
  },
];

async function unitDetail(res: import('node:http').ServerResponse, ctx: ApiContext, name: string) {
  const registry = ctx.registry();
  const unit = await registry.getUnit(name);
  if (!unit) throw new ApiError(404, 'unit does not exist');
  const states = await registry.listUnitStates({ unit: name });
  const detail: ConsoleUnitDetail = {
    unit: await consoleUnit(registry, unit, states, Date.now()),
    file: serializeUnit(unit.options),
  };
  sendJSON(res, 200, detail);
}

function linesParam(query: URLSearchParams): number {
  const raw = query.get('lines');
  if (raw === null) return 50;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_JOURNAL_LINES)
    throw new ApiError(400, `lines must be a number from 1 to ${MAX_JOURNAL_LINES}`);
  return Number(raw);
}

async function journal(
  query: URLSearchParams,
  res: import('node:http').ServerResponse,
  ctx: ApiContext,
  name: string,
): Promise<void> {
  const lines = linesParam(query);
  const reader = ctx.journal;
  if (!reader) throw new ApiError(501, 'this API server reads no journals');
  const unit = await ctx.registry().getUnit(name);
  if (!unit) throw new ApiError(404, 'unit does not exist');
  const machineID = query.get('machine') ?? unit.machineID;
  if (!machineID) throw new ApiError(409, 'the unit is not running on any machine');
  if (machineID !== reader.machineID) {
    sendJSON(res, 200, await remoteJournal(ctx, machineID, name, lines));
    return;
  }
  const body: ConsoleJournal = { machineID, lines: await reader.read(name, lines) };
  sendJSON(res, 200, body);
}

/** The journal read by fleetd on `machineID`, asked through etcd (registry/journal-relay.ts). */
async function remoteJournal(
  ctx: ApiContext,
  machineID: string,
  name: string,
  lines: number,
): Promise<ConsoleJournal> {
  const registry = ctx.registry();
  const m = (await registry.listMachines()).find((x) => x.id === machineID);
  if (!m) throw new ApiError(404, `machine ${machineID} is not in the cluster`);
  if (!registry.readMachineJournal) throw new ApiError(501, 'this registry cannot ask other machines');
  const where = `machine ${short(machineID)} (${m.publicIP || 'no IP'})`;
  try {
    return { machineID, lines: await registry.readMachineJournal(machineID, name, lines) };
  } catch (err) {
    if (err instanceof JournalRelayError)
      throw err.unanswered
        ? new ApiError(504, `${where} did not send the journal: ${err.message} (is its fleetd running?)`)
        : new ApiError(502, `${where}: ${err.message}`);
    throw err;
  }
}

const short = (id: string): string => id.slice(0, 8);
