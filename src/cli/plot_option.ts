import fs from "node:fs";
import path from "node:path";

import { InvalidArgumentError } from "../errors.js";
import { RECALL_CHART_MARK, recallChartSVG } from "../eval/recall_chart.js";
import type { EvaluationReport } from "../eval/report.js";
import { type ParsedArgs, stringOption } from "./args.js";

/**
 * The `--plot <file.svg>` of `two-stage eval`, checked before the sweep runs: an `.svg` path in an existing folder,
 * and not a file this command did not write (an existing file is replaced only when it is a chart of ours).
 */
export function plotTarget(args: ParsedArgs): string | undefined {
  const file = stringOption(args, "plot");
  if (file === undefined) return undefined;
  if (!file.endsWith(".svg")) {
    throw new InvalidArgumentError(`--plot '${file}' must name an .svg file, e.g. --plot sweep.svg.`);
  }
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new InvalidArgumentError(`--plot '${file}': the folder ${dir} does not exist. Create it, or plot elsewhere.`);
  }
  if (
    fs.existsSync(file) &&
    !(fs.statSync(file).isFile() && fs.readFileSync(file, "utf8").includes(RECALL_CHART_MARK))
  ) {
    throw new InvalidArgumentError(
      `--plot '${file}' exists and is not a recallK chart written by two-stage: refusing to overwrite it. Choose another path.`,
    );
  }
  return file;
}

/** Writes the recallK chart of `report` to `file`. */
export function writePlot(file: string, report: EvaluationReport): void {
  fs.writeFileSync(file, `${recallChartSVG(report)}\n`);
}
