import { checkShippedScenario } from './check-shipped.js';

checkShippedScenario('thin-chain');
