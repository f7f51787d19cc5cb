CREATE TYPE "public"."leg_status" AS ENUM('planned', 'submitted', 'sent', 'verified', 'delivered', 'credited', 'failed', 'refunded');--> statement-breakpoint
CREATE TYPE "public"."transport" AS ENUM('layerzero', 'wormhole');--> statement-breakpoint
CREATE TYPE "public"."shortfall_reason" AS ENUM('breach', 'forecast', 'stale-price');--> statement-breakpoint
CREATE TYPE "public"."shortfall_status" AS ENUM('open', 'closed');--> statement-breakpoint
CREATE TYPE "public"."leg_kind" AS ENUM('collateral', 'liquidity', 'local');--> statement-breakpoint
CREATE TYPE "public"."finding_kind" AS ENUM('missing_delivery', 'duplicate_delivery', 'amount_mismatch', 'unknown_message', 'stuck_leg', 'supply_mismatch', 'ledger_chain_mismatch');--> statement-breakpoint
CREATE TYPE "public"."finding_severity" AS ENUM('info', 'warning', 'critical');--> statement-breakpoint
CREATE TYPE "public"."reconciliation_status" AS ENUM('running', 'passed', 'failed', 'aborted');--> statement-breakpoint
CREATE TABLE "chains" (
	"chain_id" bigint NOT NULL,
	"key" text NOT NULL,
	"lz_eid" integer,
	"wormhole_chain_id" integer,
	"confirmations" integer DEFAULT 1 NOT NULL,
	"collateral_decimals" smallint DEFAULT 6 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chains_pkey" PRIMARY KEY("chain_id"),
	CONSTRAINT "chains_chain_id_check" CHECK ("chains"."chain_id" > 0),
	CONSTRAINT "chains_confirmations_check" CHECK ("chains"."confirmations" >= 0)
);
--> statement-breakpoint
CREATE TABLE "watcher_checkpoints" (
	"chain_id" bigint NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "watcher_checkpoints_pkey" PRIMARY KEY("chain_id"),
	CONSTRAINT "watcher_checkpoints_block_hash_check" CHECK ("watcher_checkpoints"."block_hash" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "watcher_checkpoints_block_number_check" CHECK ("watcher_checkpoints"."block_number" >= 0)
);
--> statement-breakpoint
CREATE TABLE "shortfalls" (
	"id" text NOT NULL,
	"chain_id" bigint NOT NULL,
	"engine" text NOT NULL,
	"account" text NOT NULL,
	"episode" bigint NOT NULL,
	"reason" "shortfall_reason" NOT NULL,
	"equity" numeric(78, 0) NOT NULL,
	"maintenance" numeric(78, 0) NOT NULL,
	"required_amount" numeric(78, 0) NOT NULL,
	"detected_block" bigint NOT NULL,
	"detected_at" timestamp with time zone NOT NULL,
	"status" "shortfall_status" DEFAULT 'open' NOT NULL,
	"closed_at" timestamp with time zone,
	"bad_debt" numeric(78, 0) DEFAULT 0 NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "shortfalls_pkey" PRIMARY KEY("id"),
	CONSTRAINT "shortfalls_id_check" CHECK ("shortfalls"."id" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "shortfalls_engine_check" CHECK ("shortfalls"."engine" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "shortfalls_account_check" CHECK ("shortfalls"."account" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "shortfalls_maintenance_check" CHECK ("shortfalls"."maintenance" >= 0),
	CONSTRAINT "shortfalls_required_amount_check" CHECK ("shortfalls"."required_amount" >= 0),
	CONSTRAINT "shortfalls_bad_debt_check" CHECK ("shortfalls"."bad_debt" >= 0),
	CONSTRAINT "shortfalls_closed_check" CHECK (("shortfalls"."status" = 'closed') = ("shortfalls"."closed_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "settlements" (
	"id" text NOT NULL,
	"shortfall_id" text NOT NULL,
	"revision" integer NOT NULL,
	"required_amount" numeric(78, 0) NOT NULL,
	"covered_amount" numeric(78, 0) NOT NULL,
	"uncovered_amount" numeric(78, 0) NOT NULL,
	"planned_cost_usd" numeric(30, 6) NOT NULL,
	"plan" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "settlements_pkey" PRIMARY KEY("id"),
	CONSTRAINT "settlements_id_check" CHECK ("settlements"."id" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "settlements_required_amount_check" CHECK ("settlements"."required_amount" >= 0),
	CONSTRAINT "settlements_covered_amount_check" CHECK ("settlements"."covered_amount" >= 0),
	CONSTRAINT "settlements_uncovered_amount_check" CHECK ("settlements"."uncovered_amount" >= 0),
	CONSTRAINT "settlements_cover_check" CHECK ("settlements"."covered_amount" + "settlements"."uncovered_amount" = "settlements"."required_amount"),
	CONSTRAINT "settlements_revision_check" CHECK ("settlements"."revision" >= 0)
);
--> statement-breakpoint
CREATE TABLE "leg_events" (
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "leg_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"leg_id" text NOT NULL,
	"seq" integer NOT NULL,
	"from_status" "leg_status",
	"to_status" "leg_status" NOT NULL,
	"chain_id" bigint,
	"tx_hash" text,
	"block_number" bigint,
	"block_hash" text,
	"message_id" text,
	"amount" numeric(78, 0),
	"fee" numeric(78, 0),
	"fee_usd" numeric(30, 6),
	"error" text,
	"actor" text,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "leg_events_pkey" PRIMARY KEY("id"),
	CONSTRAINT "leg_events_tx_hash_check" CHECK ("leg_events"."tx_hash" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "leg_events_block_hash_check" CHECK ("leg_events"."block_hash" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "leg_events_message_id_check" CHECK ("leg_events"."message_id" ~ '^(0x[0-9a-f]{64}|[0-9]{1,5}/[0-9a-f]{64}/[0-9]{1,20})$'),
	CONSTRAINT "leg_events_amount_check" CHECK ("leg_events"."amount" >= 0),
	CONSTRAINT "leg_events_fee_check" CHECK ("leg_events"."fee" >= 0),
	CONSTRAINT "leg_events_seq_check" CHECK ("leg_events"."seq" >= 1),
	CONSTRAINT "leg_events_fee_chain_check" CHECK ("leg_events"."fee" is null or "leg_events"."chain_id" is not null),
	CONSTRAINT "leg_events_evidence_chain_check" CHECK ("leg_events"."tx_hash" is null or "leg_events"."chain_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "leg_transitions" (
	"from_status" "leg_status" NOT NULL,
	"to_status" "leg_status" NOT NULL,
	CONSTRAINT "leg_transitions_pkey" PRIMARY KEY("from_status","to_status")
);
--> statement-breakpoint
CREATE TABLE "legs" (
	"id" text NOT NULL,
	"settlement_id" text NOT NULL,
	"leg_index" integer NOT NULL,
	"kind" "leg_kind" NOT NULL,
	"source_chain_id" bigint NOT NULL,
	"destination_chain_id" bigint NOT NULL,
	"transport" "transport",
	"account" text NOT NULL,
	"market_id" text,
	"amount" numeric(78, 0) NOT NULL,
	"position_size" numeric(78, 0) DEFAULT 0 NOT NULL,
	"deadline" timestamp with time zone,
	"status" "leg_status" DEFAULT 'planned' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"failed_from" "leg_status",
	"source_tx_hash" text,
	"source_block" bigint,
	"destination_tx_hash" text,
	"destination_block" bigint,
	"message_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "legs_pkey" PRIMARY KEY("id"),
	CONSTRAINT "legs_id_check" CHECK ("legs"."id" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "legs_account_check" CHECK ("legs"."account" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "legs_market_id_check" CHECK ("legs"."market_id" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "legs_source_tx_hash_check" CHECK ("legs"."source_tx_hash" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "legs_destination_tx_hash_check" CHECK ("legs"."destination_tx_hash" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "legs_message_id_check" CHECK ("legs"."message_id" ~ '^(0x[0-9a-f]{64}|[0-9]{1,5}/[0-9a-f]{64}/[0-9]{1,20})$'),
	CONSTRAINT "legs_amount_check" CHECK ("legs"."amount" >= 0),
	CONSTRAINT "legs_leg_index_check" CHECK ("legs"."leg_index" >= 0),
	CONSTRAINT "legs_attempts_check" CHECK ("legs"."attempts" >= 0),
	CONSTRAINT "legs_version_check" CHECK ("legs"."version" >= 1),
	CONSTRAINT "legs_route_check" CHECK (case when "legs"."kind" = 'local'
            then "legs"."transport" is null and "legs"."source_chain_id" = "legs"."destination_chain_id"
            else "legs"."transport" is not null and "legs"."source_chain_id" <> "legs"."destination_chain_id" end),
	CONSTRAINT "legs_failed_from_check" CHECK (("legs"."status" in ('failed', 'refunded')) = ("legs"."failed_from" is not null))
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" text NOT NULL,
	"transport" "transport" NOT NULL,
	"source_chain_id" bigint NOT NULL,
	"destination_chain_id" bigint,
	"leg_id" text,
	"lz_guid" text,
	"lz_nonce" numeric(20, 0),
	"wh_emitter_chain" integer,
	"wh_emitter_address" text,
	"wh_sequence" numeric(20, 0),
	"amount" numeric(78, 0),
	"payload" text,
	"source_tx_hash" text NOT NULL,
	"source_block" bigint NOT NULL,
	"verified_at" timestamp with time zone,
	"destination_tx_hash" text,
	"destination_block" bigint,
	"delivered_at" timestamp with time zone,
	"observed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "messages_pkey" PRIMARY KEY("id"),
	CONSTRAINT "messages_id_check" CHECK ("messages"."id" ~ '^(0x[0-9a-f]{64}|[0-9]{1,5}/[0-9a-f]{64}/[0-9]{1,20})$'),
	CONSTRAINT "messages_leg_id_check" CHECK ("messages"."leg_id" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "messages_lz_guid_check" CHECK ("messages"."lz_guid" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "messages_wh_emitter_address_check" CHECK ("messages"."wh_emitter_address" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "messages_source_tx_hash_check" CHECK ("messages"."source_tx_hash" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "messages_destination_tx_hash_check" CHECK ("messages"."destination_tx_hash" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "messages_payload_check" CHECK ("messages"."payload" ~ '^0x([0-9a-f]{2})*$'),
	CONSTRAINT "messages_amount_check" CHECK ("messages"."amount" >= 0),
	CONSTRAINT "messages_transport_id_check" CHECK (case "messages"."transport"
            when 'layerzero' then "messages"."lz_guid" is not null and "messages"."id" = "messages"."lz_guid"
            else "messages"."wh_emitter_chain" is not null and "messages"."wh_emitter_address" is not null and "messages"."wh_sequence" is not null
              and "messages"."id" = "messages"."wh_emitter_chain"::text || '/' || substr("messages"."wh_emitter_address", 3) || '/' || "messages"."wh_sequence"::text
          end)
);
--> statement-breakpoint
CREATE TABLE "reconciled_legs" (
	"leg_id" text NOT NULL,
	"run_id" bigint NOT NULL,
	"reconciled_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reconciled_legs_pkey" PRIMARY KEY("leg_id","run_id")
);
--> statement-breakpoint
CREATE TABLE "reconciliation_findings" (
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "reconciliation_findings_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" bigint NOT NULL,
	"kind" "finding_kind" NOT NULL,
	"severity" "finding_severity" NOT NULL,
	"chain_id" bigint,
	"leg_id" text,
	"message_id" text,
	"expected" numeric(78, 0),
	"actual" numeric(78, 0),
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolution" text,
	CONSTRAINT "reconciliation_findings_pkey" PRIMARY KEY("id"),
	CONSTRAINT "reconciliation_findings_message_id_check" CHECK ("reconciliation_findings"."message_id" ~ '^(0x[0-9a-f]{64}|[0-9]{1,5}/[0-9a-f]{64}/[0-9]{1,20})$'),
	CONSTRAINT "reconciliation_findings_resolution_check" CHECK (("reconciliation_findings"."resolved_at" is null) = ("reconciliation_findings"."resolution" is null))
);
--> statement-breakpoint
CREATE TABLE "reconciliation_runs" (
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "reconciliation_runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"status" "reconciliation_status" DEFAULT 'running' NOT NULL,
	"node" text,
	"scope" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"summary" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "reconciliation_runs_pkey" PRIMARY KEY("id"),
	CONSTRAINT "reconciliation_runs_finished_check" CHECK (("reconciliation_runs"."status" = 'running') = ("reconciliation_runs"."finished_at" is null))
);
--> statement-breakpoint
ALTER TABLE "watcher_checkpoints" ADD CONSTRAINT "watcher_checkpoints_chain_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shortfalls" ADD CONSTRAINT "shortfalls_chain_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settlements" ADD CONSTRAINT "settlements_shortfall_fk" FOREIGN KEY ("shortfall_id") REFERENCES "public"."shortfalls"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leg_events" ADD CONSTRAINT "leg_events_leg_fk" FOREIGN KEY ("leg_id") REFERENCES "public"."legs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leg_events" ADD CONSTRAINT "leg_events_chain_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "legs" ADD CONSTRAINT "legs_settlement_fk" FOREIGN KEY ("settlement_id") REFERENCES "public"."settlements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "legs" ADD CONSTRAINT "legs_source_chain_fk" FOREIGN KEY ("source_chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "legs" ADD CONSTRAINT "legs_destination_chain_fk" FOREIGN KEY ("destination_chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_source_chain_fk" FOREIGN KEY ("source_chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_destination_chain_fk" FOREIGN KEY ("destination_chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciled_legs" ADD CONSTRAINT "reconciled_legs_leg_fk" FOREIGN KEY ("leg_id") REFERENCES "public"."legs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciled_legs" ADD CONSTRAINT "reconciled_legs_run_fk" FOREIGN KEY ("run_id") REFERENCES "public"."reconciliation_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliation_findings" ADD CONSTRAINT "reconciliation_findings_run_fk" FOREIGN KEY ("run_id") REFERENCES "public"."reconciliation_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliation_findings" ADD CONSTRAINT "reconciliation_findings_chain_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliation_findings" ADD CONSTRAINT "reconciliation_findings_leg_fk" FOREIGN KEY ("leg_id") REFERENCES "public"."legs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "chains_key_key" ON "chains" USING btree ("key");--> statement-breakpoint
CREATE UNIQUE INDEX "chains_lz_eid_key" ON "chains" USING btree ("lz_eid");--> statement-breakpoint
CREATE UNIQUE INDEX "chains_wormhole_chain_id_key" ON "chains" USING btree ("wormhole_chain_id");--> statement-breakpoint
CREATE UNIQUE INDEX "shortfalls_episode_key" ON "shortfalls" USING btree ("chain_id","engine","account","episode");--> statement-breakpoint
CREATE INDEX "shortfalls_status_idx" ON "shortfalls" USING btree ("status");--> statement-breakpoint
CREATE INDEX "shortfalls_account_idx" ON "shortfalls" USING btree ("account");--> statement-breakpoint
CREATE UNIQUE INDEX "settlements_shortfall_revision_key" ON "settlements" USING btree ("shortfall_id","revision");--> statement-breakpoint
CREATE INDEX "settlements_created_at_idx" ON "settlements" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "leg_events_leg_seq_key" ON "leg_events" USING btree ("leg_id","seq");--> statement-breakpoint
CREATE INDEX "leg_events_status_time_idx" ON "leg_events" USING btree ("to_status","occurred_at");--> statement-breakpoint
CREATE INDEX "leg_events_tx_hash_idx" ON "leg_events" USING btree ("tx_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "legs_settlement_index_key" ON "legs" USING btree ("settlement_id","leg_index");--> statement-breakpoint
CREATE UNIQUE INDEX "legs_message_id_key" ON "legs" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "legs_status_idx" ON "legs" USING btree ("status");--> statement-breakpoint
CREATE INDEX "legs_route_idx" ON "legs" USING btree ("source_chain_id","transport");--> statement-breakpoint
CREATE INDEX "legs_destination_chain_idx" ON "legs" USING btree ("destination_chain_id");--> statement-breakpoint
CREATE INDEX "legs_account_idx" ON "legs" USING btree ("account");--> statement-breakpoint
CREATE INDEX "messages_leg_id_idx" ON "messages" USING btree ("leg_id");--> statement-breakpoint
CREATE INDEX "messages_source_tx_hash_idx" ON "messages" USING btree ("source_tx_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_wormhole_sequence_key" ON "messages" USING btree ("wh_emitter_chain","wh_emitter_address","wh_sequence");--> statement-breakpoint
CREATE INDEX "reconciled_legs_run_idx" ON "reconciled_legs" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "reconciliation_findings_run_idx" ON "reconciliation_findings" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "reconciliation_findings_leg_idx" ON "reconciliation_findings" USING btree ("leg_id");--> statement-breakpoint
CREATE INDEX "reconciliation_findings_open_leg_idx" ON "reconciliation_findings" USING btree ("leg_id") WHERE "reconciliation_findings"."resolved_at" is null;--> statement-breakpoint
CREATE INDEX "reconciliation_runs_started_at_idx" ON "reconciliation_runs" USING btree ("started_at");