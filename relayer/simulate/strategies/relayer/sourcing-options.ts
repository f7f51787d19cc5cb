/**
 * The planner's options for one at-risk account (DESIGN.md sections 1 and 6), in USD of the
 * required amount they cover ("relief"):
 * - `collateral:<chain>:<transport>`: the account's own surplus on another chain (opted-in
 *   accounts only); no variable cost, paid in gas on both chains plus the message fee, arrives
 *   after the transport's latency.
 * - `liquidity:<chain>[:<transport>]`: the vault's free reserve funds a backstop takeover of a
 *   share phi of the positions: relief phi (G - pen) for margin phi IM, so a vault USD buys
 *   (G - pen) / IM of relief; the trader pays the penalty, pen / (G - pen) per USD of relief.
 *   The home chain's own vault needs no message (latency 0).
 * - `local:<chain>`: a partial liquidation into the home pool, offered only below maintenance
 *   (the engine refuses it above) and only up to the share that restores E >= MM. Its cost,
 *   penalty plus fee plus slippage, is modelled as quadratic in the relief: closing notional n
 *   into a pool of USD depth Y slips about n^2 / Y.
 * G is the account's target level (sum |p| P m_eff (1 + target)), pen its full penalty, IM its
 * initial margin.
 */
import type { PlanOption } from '../../../planner/types.js';
import { absorbLoss } from '../../execution/absorb-positions.js';
import { closeLoss } from '../../execution/close-positions.js';
import { TRANSPORTS, type TransportName } from '../../scenario/schema.js';
import type { RunState } from '../../strategy.js';
import type { AccountTerms } from './account-terms.js';
import { restoringFraction } from './restoring-fraction.js';

export type Leg =
  | { readonly kind: 'collateral'; readonly remote: number; readonly chain: number; readonly latency: number; readonly fee: number }
  | { readonly kind: 'liquidity'; readonly chain: number; readonly latency: number; readonly fee: number; readonly reliefPerVaultUsd: number }
  | { readonly kind: 'local'; readonly maxFraction: number; readonly capacity: number };

export interface SourcingOption {
  readonly option: PlanOption;
  readonly leg: Leg;
}

export function sourcingOptions(params: { state: RunState; account: number; terms: AccountTerms }): SourcingOption[] {
  const { state, account, terms } = params;
  return [...localOption(params), ...liquidityOptions(params), ...collateralOptions({ state, account, home: state.book.home[account] ?? 0, terms })];
}

function collateralOptions(params: { state: RunState; account: number; home: number; terms: AccountTerms }): SourcingOption[] {
  const { state, account, home } = params;
  const { book, scenario } = state;
  if (book.optedIn[account] !== 1) return [];
  const options: SourcingOption[] = [];
  const end = book.remoteStart[account + 1] ?? 0;
  for (let r = book.remoteStart[account] ?? 0; r < end; r++) {
    const amount = book.remoteCollateral[r] ?? 0;
    const chain = book.remoteChain[r] ?? 0;
    if (amount <= 0) continue;
    for (const [transport, route] of routes(state, chain)) {
      options.push({
        option: {
          id: `collateral:${scenario.chains[chain]?.key}:${transport}`,
          capacity: amount,
          fixedCost: gas(state, chain) + gas(state, home) + route.feeUsd,
          latency: route.latencySeconds,
          cost: { type: 'linear', rate: 0 },
        },
        leg: { kind: 'collateral', remote: r, chain, latency: route.latencySeconds, fee: route.feeUsd },
      });
    }
  }
  return options;
}

function liquidityOptions(params: { state: RunState; account: number; terms: AccountTerms }): SourcingOption[] {
  const { state, account, terms } = params;
  const { world, vault, scenario } = state;
  const home = state.book.home[account] ?? 0;
  const perAbsorbedShare = terms.target - terms.penalty;
  if (perAbsorbedShare <= 0 || terms.initialMargin <= 0) return [];
  const reliefPerVaultUsd = perAbsorbedShare / terms.initialMargin;
  const mostRelief = terms.target - absorbLoss({ state, account, fraction: 1, equity: terms.equity });
  const cost = { type: 'linear', rate: terms.penalty / perAbsorbedShare } as const;
  const options: SourcingOption[] = [];
  for (let chain = 0; chain < world.chainCount; chain++) {
    const capacity = Math.min(vault.free(chain, world.oraclePrices) * reliefPerVaultUsd, mostRelief);
    if (capacity <= 0) continue;
    const key = scenario.chains[chain]?.key;
    if (chain === home) {
      options.push({
        option: { id: `liquidity:${key}`, capacity, fixedCost: gas(state, home), latency: 0, cost },
        leg: { kind: 'liquidity', chain, latency: 0, fee: 0, reliefPerVaultUsd },
      });
      continue;
    }
    for (const [transport, route] of routes(state, chain)) {
      options.push({
        option: { id: `liquidity:${key}:${transport}`, capacity, fixedCost: gas(state, chain) + gas(state, home) + route.feeUsd, latency: route.latencySeconds, cost },
        leg: { kind: 'liquidity', chain, latency: route.latencySeconds, fee: route.feeUsd, reliefPerVaultUsd },
      });
    }
  }
  return options;
}

function localOption(params: { state: RunState; account: number; terms: AccountTerms }): SourcingOption[] {
  const { state, account, terms } = params;
  if (!(terms.equity < terms.maintenance) || terms.notional <= 0) return [];
  const loss = (fraction: number): number => closeLoss({ state, account, fraction, equity: terms.equity });
  const maxFraction = restoringFraction(terms, loss);
  if (maxFraction === undefined) return [];
  const capacity = maxFraction * terms.target - loss(maxFraction);
  const targetRate = terms.target / terms.notional;
  const penaltyRate = terms.penalty / terms.notional;
  const perNotional = targetRate - penaltyRate;
  if (capacity <= 0 || perNotional <= 0 || terms.poolDepthUsd <= 0) return [];
  const home = state.book.home[account] ?? 0;
  return [
    {
      option: {
        id: `local:${state.scenario.chains[home]?.key}`,
        capacity,
        fixedCost: gas(state, home),
        latency: 0,
        cost: { type: 'quadratic', a: (penaltyRate + terms.poolFee) / perNotional, b: 1 / (terms.poolDepthUsd * perNotional * perNotional) },
      },
      leg: { kind: 'local', maxFraction, capacity },
    },
  ];
}

function routes(state: RunState, chain: number): [TransportName, { latencySeconds: number; feeUsd: number }][] {
  const transports = state.scenario.chains[chain]?.transports;
  if (transports === undefined) return [];
  return TRANSPORTS.flatMap((name) => {
    const route = transports[name];
    return route === undefined ? [] : [[name, route] as [TransportName, { latencySeconds: number; feeUsd: number }]];
  });
}

function gas(state: RunState, chain: number): number {
  return state.scenario.chains[chain]?.gasUsd ?? 0;
}
