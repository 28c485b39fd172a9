/**
 * Builds the viewer's front end (viewer/) into dist/viewer-assets/: one JavaScript bundle with the
 * charting library, one stylesheet and the page. Run by `npm run build`, after tsc; the front end's
 * packages are devDependencies, bundled here, never dependencies of the library.
 */
import { copyFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const out = path.join(root, 'dist', 'viewer-assets')

await mkdir(out, { recursive: true })
await build({
  entryPoints: { viewer: path.join(root, 'viewer', 'src', 'main.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  logLevel: 'warning',
})
await copyFile(path.join(root, 'viewer', 'index.html'), path.join(out, 'index.html'))
console.log(`viewer assets built in ${path.relative(root, out)}`)
