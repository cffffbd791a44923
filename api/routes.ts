// Every route of the API server, in the order they are tried (first match wins). A new route is a
// module under ./routes/ exporting `ApiRoute`s (see ./route.ts), added here with one line.

import { eventRoutes } from './events.js';
import type { ApiRoute } from './route.js';
import { discoveryRoutes } from './routes/discovery.js';
import { machineRoutes } from './routes/machines.js';
import { opsRoutes } from './routes/ops.js';
import { restartRoutes } from './routes/restart.js';
import { runRoutes } from './routes/runs.js';
import { stateRoutes } from './routes/state.js';
import { unitRoutes } from './routes/units.js';
import { uiRoutes } from './ui/routes.js';
import { uiStaticRoutes } from './ui/static.js';

export const API_ROUTES: readonly ApiRoute[] = [
  ...opsRoutes,
  ...uiStaticRoutes, // root: /ui/
  ...eventRoutes,
  ...uiRoutes,
  ...discoveryRoutes,
  ...machineRoutes,
  ...runRoutes, // before unitRoutes: /units/<name>/runs
  ...restartRoutes, // before unitRoutes: /units/<name>/restart
  ...unitRoutes,
  ...stateRoutes,
];
