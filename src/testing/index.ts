/** Test utilities: `import { ScriptedModel } from 'mongodb-session-manager/testing'`. */
export { ScriptedModel, type ScriptedTurn, type ScriptedResponder, type ScriptedModelConfig } from './scripted-model.js'
