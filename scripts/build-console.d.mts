export interface ConsoleAssetTexts {
  readonly 'index.html': string;
  readonly 'app.js': string;
  readonly 'app.css': string;
}
/** The console's page, script (esbuild) and stylesheet as strings. */
export declare function buildConsole(): ConsoleAssetTexts;
/** Writes them to OUT_DIR (default dist/console); returns OUT_DIR. */
export declare function writeConsole(outDir?: string): string;
