// The Google-style discovery document fleet served at `/fleet/v1/discovery`, describing the API
// (clients generated from it, like fleetctl's, only need the resource/method layout). Written from
// the API's shape, with fleet's literal `$ENDPOINT` placeholder in the URLs.

const str = { type: 'string' };
const pageParams = {
  nextPageToken: { type: 'string', location: 'query' },
};

export const DISCOVERY_DOCUMENT = {
  kind: 'discovery#restDescription',
  discoveryVersion: 'v1',
  id: 'fleet:v1',
  name: 'schema',
  version: 'v1',
  title: 'fleet API',
  description: '',
  documentationLink: 'http://github.com/coreos/fleet',
  protocol: 'rest',
  icons: { x16: '', x32: '' },
  labels: [],
  baseUrl: '$ENDPOINT/fleet/v1/',
  basePath: '/fleet/v1/',
  rootUrl: '$ENDPOINT/',
  servicePath: 'fleet/v1/',
  batchPath: 'batch',
  parameters: {},
  auth: {},
  schemas: {
    Machine: {
      id: 'Machine',
      type: 'object',
      properties: { id: str, primaryIP: str, metadata: { type: 'object', additionalProperties: str } },
    },
    MachinePage: {
      id: 'MachinePage',
      type: 'object',
      properties: { machines: { type: 'array', items: { $ref: 'Machine' } }, nextPageToken: str },
    },
    UnitOption: {
      id: 'UnitOption',
      type: 'object',
      properties: { section: str, name: str, value: str },
    },
    Unit: {
      id: 'Unit',
      type: 'object',
      properties: {
        name: str,
        options: { type: 'array', items: { $ref: 'UnitOption' } },
        desiredState: { type: 'string', enum: ['inactive', 'loaded', 'launched'] },
        currentState: { type: 'string', enum: ['inactive', 'loaded', 'launched'] },
        machineID: { type: 'string', required: true },
      },
    },
    UnitPage: {
      id: 'UnitPage',
      type: 'object',
      properties: { units: { type: 'array', items: { $ref: 'Unit' } }, nextPageToken: str },
    },
    UnitState: {
      id: 'UnitState',
      type: 'object',
      properties: {
        name: str,
        hash: str,
        machineID: str,
        systemdLoadState: str,
        systemdActiveState: str,
        systemdSubState: str,
      },
    },
    UnitStatePage: {
      id: 'UnitStatePage',
      type: 'object',
      properties: { states: { type: 'array', items: { $ref: 'UnitState' } }, nextPageToken: str },
    },
  },
  resources: {
    Machines: {
      methods: {
        List: {
          id: 'fleet.Machine.List',
          description: 'Retrieve a page of Machine objects.',
          httpMethod: 'GET',
          path: 'machines',
          parameters: pageParams,
          response: { $ref: 'MachinePage' },
        },
      },
    },
    Units: {
      methods: {
        List: {
          id: 'fleet.Unit.List',
          description: 'Retrieve a page of Unit objects.',
          httpMethod: 'GET',
          path: 'units',
          parameters: pageParams,
          response: { $ref: 'UnitPage' },
        },
        Get: {
          id: 'fleet.Unit.Get',
          description: 'Retrieve a single Unit object.',
          httpMethod: 'GET',
          path: 'units/{unitName}',
          parameters: { unitName: { type: 'string', location: 'path', required: true } },
          parameterOrder: ['unitName'],
          response: { $ref: 'Unit' },
        },
        Delete: {
          id: 'fleet.Unit.Delete',
          description: 'Delete the referenced Unit object.',
          httpMethod: 'DELETE',
          path: 'units/{unitName}',
          parameters: { unitName: { type: 'string', location: 'path', required: true } },
          parameterOrder: ['unitName'],
        },
        Set: {
          id: 'fleet.Unit.Set',
          description: 'Create or update a Unit.',
          httpMethod: 'PUT',
          path: 'units/{unitName}',
          parameters: { unitName: { type: 'string', location: 'path', required: true } },
          parameterOrder: ['unitName'],
          request: { $ref: 'Unit' },
        },
      },
    },
    UnitState: {
      methods: {
        List: {
          id: 'fleet.UnitState.List',
          description: 'Retrieve a page of UnitState objects.',
          httpMethod: 'GET',
          path: 'state',
          parameters: {
            ...pageParams,
            unitName: { type: 'string', location: 'query' },
            machineID: { type: 'string', location: 'query' },
          },
          response: { $ref: 'UnitStatePage' },
        },
        Get: {
          id: 'fleet.UnitState.Get',
          description: 'Retrieve the state of a single unit.',
          httpMethod: 'GET',
          path: 'state/{unitName}',
          parameters: { unitName: { type: 'string', location: 'path', required: true } },
          parameterOrder: ['unitName'],
          response: { $ref: 'UnitState' },
        },
      },
    },
  },
} as const;

/** Pretty-printed like fleet's (two-space indent). */
export const DISCOVERY_JSON = `${JSON.stringify(DISCOVERY_DOCUMENT, null, 2)}\n`;
