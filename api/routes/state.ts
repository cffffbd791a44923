// /state and /state/<name>: the units' systemd states as the agents reported them.

import { validateUnitName } from '../../units/names.js';
import type { UnitStateReport } from '../../units/types.js';
import { apiPage, apiUnitState } from '../entities.js';
import { ApiError, sendJSON } from '../http.js';
import { encodePageToken, pageOf } from '../page-token.js';
import { itemName, pageToken } from '../params.js';
import { type ApiCall, type ApiContext, type ApiRoute, byMethod } from '../route.js';

const ONLY_GET = 'only GET supported against this resource';

export const stateRoutes: readonly ApiRoute[] = [
  {
    path: /^\/state$/,
    serve: (call, ctx) => byMethod(call, { GET: () => listStates(call, ctx) }, ONLY_GET),
  },
  {
    path: /^\/state\/(.+)$/,
    serve: (call, ctx) => {
      const name = itemName(call.params[0] as string);
      return byMethod(call, { GET: () => getState(call, ctx, name) }, ONLY_GET);
    },
  },
];

async function listStates({ res, query }: ApiCall, ctx: ApiContext): Promise<void> {
  const tok = pageToken(query, ctx.tokenLimit);
  const machineID = query.get('machineID') ?? '';
  const unitName = query.get('unitName') ?? '';
  const filter = { ...(machineID ? { machineID } : {}), ...(unitName ? { unit: unitName } : {}) };
  const registry = ctx.registry();
  const listings = ctx.listings<UnitStateReport>('states');
  const all = await listings.get(JSON.stringify([machineID, unitName]), tok.page === 1, async () =>
    (await registry.listUnitStates(filter)).filter(
      (s) => (machineID === '' || s.machineID === machineID) && (unitName === '' || s.unit === unitName),
    ),
  );
  const page = pageOf(all, tok);
  sendJSON(
    res,
    200,
    apiPage('states', page.items.map(apiUnitState), page.next && encodePageToken(page.next)),
  );
}

/** fleet crashed here for unknown units; fleet-ts answers 404. */
async function getState({ res }: ApiCall, ctx: ApiContext, name: string): Promise<void> {
  if (validateUnitName(name) !== null) throw new ApiError(404, 'unit does not exist');
  const registry = ctx.registry();
  const state = (await registry.listUnitStates({ unit: name })).find((s) => s.unit === name);
  if (state) return sendJSON(res, 200, apiUnitState(state));
  const unit = await registry.getUnit(name);
  throw new ApiError(404, unit ? 'unit state does not exist' : 'unit does not exist');
}
