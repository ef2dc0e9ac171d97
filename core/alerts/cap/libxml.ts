import { pathToFileURL } from 'node:url';
import { constants, Script } from 'node:vm';
import type * as LibxmlModule from 'libxml2-wasm' with { 'resolution-mode': 'import' };

/**
 * Loads libxml2-wasm (libxml2 compiled to WebAssembly: no file or network access of its own, so external entities,
 * DTDs and XIncludes have nowhere to come from).
 *
 * It is an ES module with top-level await (the wasm is instantiated on import), which `require()` cannot load. tsc
 * (module nodenext) keeps a written `import()` as it is, but SWC under jest turns it into `require()`, so the
 * `import()` is compiled at run time from a Function body instead, where no compiler sees it: that is the path in the
 * built runtime. Inside jest's sandbox a real `import()` needs a loader the sandbox does not have (without
 * --experimental-vm-modules), so there, and only there, it goes through Node's main-context loader (which prints an
 * ExperimentalWarning once).
 */
export type Libxml = typeof LibxmlModule;

const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

async function importOutsideSandbox(url: string): Promise<unknown> {
  try {
    return await nativeImport(url);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG') throw error;
    const viaMainLoader = new Script('(specifier) => import(specifier)', {
      importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    }).runInThisContext() as typeof nativeImport;
    return viaMainLoader(url);
  }
}

let loading: Promise<Libxml> | undefined;

/** The libxml2-wasm module, loaded once per process. */
export function loadLibxml(): Promise<Libxml> {
  loading ??= importOutsideSandbox(pathToFileURL(require.resolve('libxml2-wasm')).href).then((module) => module as Libxml);
  return loading;
}
