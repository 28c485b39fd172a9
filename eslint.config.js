// @ts-check
import tseslint from 'typescript-eslint'

/**
 * The layers of src/, bottom first. A module may import from its own layer's folders and from
 * any layer below, never from a layer above. `errors.ts`, `logging.ts` and `redaction.ts` sit under everything.
 */
const LAYERS = [
  ['model', 'testing'],
  ['validation', 'storage'],
  ['hooks', 'notifications'],
  ['features'],
  ['turn'],
  ['session', 'aws'],
  ['diagnostics'],
  ['cli'],
]

/** One config per folder: the folders of higher layers (and `aws` ↔ `session`) are off limits. */
const layerRules = LAYERS.flatMap((folders, level) => {
  const above = LAYERS.slice(level + 1).flat()
  return folders.map((folder) => {
    // The AWS hooks are handed to the manager by the user: neither imports the other.
    const siblings = folder === 'aws' ? ['session'] : folder === 'session' ? ['aws'] : []
    const forbidden = [...above, ...siblings]
    return {
      files: [`src/${folder}/**/*.ts`],
      ignores: [`src/${folder}/**/__tests__/**`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: forbidden.map((name) => ({
              group: [`../${name}/*`, `../../${name}/*`],
              message: `src/${folder} is below src/${name}: imports go down the layers only (see eslint.config.js).`,
            })),
          },
        ],
      },
    }
  })
})

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.cache/**', 'docs/api/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...layerRules,
  {
    // errors.ts and logging.ts are the bottom: they import nothing of the library.
    files: ['src/errors.ts', 'src/logging.ts', 'src/redaction.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['./*/*'], message: 'errors.ts and logging.ts import nothing of the library.' }] },
      ],
    },
  },
)
