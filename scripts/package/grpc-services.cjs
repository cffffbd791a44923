// What the bundles use instead of @grpc/proto-loader's fromJSON for etcd's rpc.proto: the same gRPC
// service definitions (paths, stream flags, method names, (de)serializers with the caller's options)
// without proto-loader's reflection descriptors, which grpc-js never reads on the client side and
// which were 24 of the 30 ms that loading etcd3 cost every fleetctl command (docs/profiles/).
// test/unit/grpc-services.test.ts compares the result with proto-loader's on every etcd method.
'use strict';

/** grpc-js package definition of every service in `json` (protobufjs JSON of the .proto files). */
function serviceDefinitions(protobuf, json, options) {
  const root = protobuf.Root.fromJSON(json);
  root.resolveAll();
  const definition = {};
  const visit = (ns, prefix) => {
    for (const obj of ns.nestedArray) {
      const name = prefix ? `${prefix}.${obj.name}` : obj.name;
      if (obj instanceof protobuf.Service) definition[name] = service(obj, name, options);
      if (obj instanceof protobuf.Namespace && !(obj instanceof protobuf.Service)) visit(obj, name);
    }
  };
  visit(root, '');
  return definition;
}

function service(svc, name, options) {
  const methods = {};
  for (const m of svc.methodsArray) {
    methods[m.name] = {
      path: `/${name}/${m.name}`,
      requestStream: !!m.requestStream,
      responseStream: !!m.responseStream,
      requestSerialize: serializer(m.resolvedRequestType),
      requestDeserialize: deserializer(m.resolvedRequestType, options),
      responseSerialize: serializer(m.resolvedResponseType),
      responseDeserialize: deserializer(m.resolvedResponseType, options),
      originalName: camelCase(m.name),
      options: {},
    };
  }
  return methods;
}

// lodash's camelCase, as proto-loader names client methods, for identifiers: HashKV -> hashKv.
function camelCase(name) {
  const words = name.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? [name];
  return words
    .map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
}

function serializer(type) {
  return (arg) => {
    if (Array.isArray(arg))
      throw new Error(
        `Failed to serialize message: expected object with ${type.name} structure, got array instead`,
      );
    return type.encode(type.fromObject(arg)).finish();
  };
}

function deserializer(type, options) {
  return (buf) => type.toObject(type.decode(buf), options);
}

module.exports = { serviceDefinitions };
