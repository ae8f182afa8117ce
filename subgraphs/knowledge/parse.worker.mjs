// Entry of the parser worker (parser-pool.ts). Worker threads do not inherit tsx's loader (nor
// vitest's), so this plain module loads the TypeScript body through tsx's API: the same under
// `npm start`, vitest and the Docker image.
import { tsImport } from 'tsx/esm/api';

await tsImport('./parse.worker.ts', import.meta.url);
