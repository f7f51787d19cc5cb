import { checkShippedScenario } from './check-shipped.js';

checkShippedScenario('flash-crash');
