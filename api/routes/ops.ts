// fleet-ts extension: /metrics and /health at the root of the API socket (see ../ops-http.ts).

import { ApiError } from '../http.js';
import { serveOps } from '../ops-http.js';
import type { ApiRoute } from '../route.js';

export const opsRoutes: readonly ApiRoute[] = [
  {
    root: true,
    path: /^\/(metrics|health)$/,
    serve: async ({ method, res, params }, ctx) => {
      if (!ctx.ops) throw new ApiError(404, '');
      await serveOps(ctx.ops, method, `/${params[0]}`, res);
    },
  },
];
