/** Every command, in `--help` order. */
import type { Command } from '../command.js'
import { doctorCommand } from './doctor.js'
import { feedbackList } from './feedback-list.js'
import { feedbackReportCommand } from './feedback-report.js'
import { metricsCommand } from './metrics.js'
import { relayCommand } from './relay.js'
import { sessionsDelete } from './sessions-delete.js'
import { sessionsExport } from './sessions-export.js'
import { sessionsList } from './sessions-list.js'
import { sessionsPrune } from './sessions-prune.js'
import { sessionsShow } from './sessions-show.js'
import { viewerCommand } from './viewer.js'

export const COMMANDS: readonly Command[] = [
  sessionsList,
  sessionsShow,
  sessionsExport,
  sessionsDelete,
  sessionsPrune,
  feedbackList,
  feedbackReportCommand,
  metricsCommand,
  relayCommand,
  viewerCommand,
  doctorCommand,
]
