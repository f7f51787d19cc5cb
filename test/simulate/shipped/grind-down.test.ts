import { checkShippedScenario } from './check-shipped.js';

checkShippedScenario('grind-down');
