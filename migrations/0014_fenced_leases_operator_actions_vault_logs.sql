CREATE TABLE "watcher_leases" (
	"chain_id" bigint NOT NULL,
	"epoch" bigint NOT NULL,
	"owner" text NOT NULL,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "watcher_leases_pkey" PRIMARY KEY("chain_id"),
	CONSTRAINT "watcher_leases_epoch_check" CHECK ("watcher_leases"."epoch" >= 1)
);
--> statement-breakpoint
CREATE TABLE "leg_operator_actions" (
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "leg_operator_actions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"leg_id" text NOT NULL,
	"action" text NOT NULL,
	"operator" text NOT NULL,
	"leg_status" "leg_status" NOT NULL,
	"outcome" text NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "leg_operator_actions_pkey" PRIMARY KEY("id"),
	CONSTRAINT "leg_operator_actions_action_check" CHECK ("leg_operator_actions"."action" in ('retry', 'cancel'))
);
--> statement-breakpoint
CREATE TABLE "reconcile_checkpoints" (
	"chain_id" bigint NOT NULL,
	"vault" text NOT NULL,
	"block_number" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reconcile_checkpoints_pkey" PRIMARY KEY("chain_id","vault"),
	CONSTRAINT "reconcile_checkpoints_block_number_check" CHECK ("reconcile_checkpoints"."block_number" >= 0)
);
--> statement-breakpoint
CREATE TABLE "vault_logs" (
	"chain_id" bigint NOT NULL,
	"vault" text NOT NULL,
	"block_number" bigint NOT NULL,
	"log_index" integer NOT NULL,
	"tx_hash" text NOT NULL,
	"topics" jsonb NOT NULL,
	"data" text NOT NULL,
	CONSTRAINT "vault_logs_pkey" PRIMARY KEY("chain_id","vault","block_number","log_index")
);
--> statement-breakpoint
ALTER TABLE "watcher_checkpoints" ADD COLUMN "epoch" bigint;--> statement-breakpoint
ALTER TABLE "watcher_leases" ADD CONSTRAINT "watcher_leases_chain_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leg_operator_actions" ADD CONSTRAINT "leg_operator_actions_leg_fk" FOREIGN KEY ("leg_id") REFERENCES "public"."legs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconcile_checkpoints" ADD CONSTRAINT "reconcile_checkpoints_chain_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vault_logs" ADD CONSTRAINT "vault_logs_chain_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "leg_operator_actions_leg_idx" ON "leg_operator_actions" USING btree ("leg_id");--> statement-breakpoint
-- Hand-added: an operator's action is part of the audit trail, append-only like leg_events (0001).
CREATE TRIGGER "leg_operator_actions_append_only" BEFORE UPDATE OR DELETE ON "leg_operator_actions"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_modification"('append-only');
