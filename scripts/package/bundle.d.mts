export declare const ROOT: string;
export declare const VERSION: string;
export declare const PROGRAMS: readonly string[];
/** Builds OUT_DIR/fleetctl.cjs and OUT_DIR/fleetd.cjs; returns their paths. */
export declare function bundle(outDir?: string): Promise<string[]>;
/** esbuild options shared by the bundles and the self-contained executable. */
export declare function bundleOptions(): Record<string, unknown>;
