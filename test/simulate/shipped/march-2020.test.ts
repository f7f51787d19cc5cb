import { checkShippedScenario } from './check-shipped.js';

checkShippedScenario('march-2020', { netLossOnlyUnwinding: true });
