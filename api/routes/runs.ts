// fleet-ts extension: GET /units/<name>/runs, the cluster cron runs of a scheduled unit.

import { validateUnitName } from '../../units/names.js';
import { apiRun } from '../entities.js';
import { ApiError, goQuote, sendJSON } from '../http.js';
import { itemName } from '../params.js';
import { type ApiCall, type ApiContext, type ApiRoute, byMethod } from '../route.js';

/** Most runs one `GET /units/<name>/runs` returns (`?limit=` may ask for fewer). */
export const MAX_RUNS_LIMIT = 1000;

/** Unit names never contain '/', so this route cannot shadow a unit (it is tried before /units/<name>). */
export const runRoutes: readonly ApiRoute[] = [
  {
    path: /^\/units\/(.+)\/runs$/,
    serve: (call, ctx) => {
      const name = itemName(call.params[0] as string);
      return byMethod(
        call,
        { GET: () => listRuns(call, ctx, name) },
        'only GET supported against this resource',
      );
    },
  },
];

/**
 * `{"runs":[...]}` newest first (an empty list stays `[]`), at most `limit`. Unknown unit without
 * runs: 404. Runs of a destroyed unit are still listed while their records exist.
 */
async function listRuns({ res, query }: ApiCall, ctx: ApiContext, name: string): Promise<void> {
  const limits = query.getAll('limit');
  if (limits.length > 1) throw new ApiError(400, 'too many values for limit');
  let limit = MAX_RUNS_LIMIT;
  if (limits.length === 1) {
    const raw = limits[0] as string;
    const n = /^[0-9]{1,9}$/.test(raw) ? Number(raw) : 0;
    if (n < 1) throw new ApiError(400, `invalid limit ${goQuote(raw)}: expected a positive integer`);
    limit = Math.min(n, MAX_RUNS_LIMIT);
  }
  if (validateUnitName(name) !== null) throw new ApiError(404, 'unit does not exist');
  const registry = ctx.registry();
  if (!registry.listRuns) throw new ApiError(501, 'run history is not available from this registry');
  const runs = await registry.listRuns(name, limit);
  if (runs.length === 0 && !(await registry.getUnit(name))) throw new ApiError(404, 'unit does not exist');
  sendJSON(res, 200, { runs: runs.map(apiRun) });
}
