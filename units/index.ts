// The unit model: plain data and pure functions over it (no I/O).

export * from './glob.js';
export { goTrimSpace, isGoSpace } from './go-text.js';
export * from './names.js';
export * from './parse.js';
export * from './serialize.js';
export * from './specifiers.js';
export * from './states.js';
export * from './types.js';
export * from './xfleet.js';
