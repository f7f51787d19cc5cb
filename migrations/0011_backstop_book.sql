CREATE TABLE "backstop_marks" (
	"chain_id" bigint NOT NULL,
	"market_id" text NOT NULL,
	"block_number" bigint NOT NULL,
	"size" numeric(78, 0) NOT NULL,
	"entry_price" numeric(78, 0) NOT NULL,
	"oracle_price" numeric(78, 0) NOT NULL,
	"unrealized_pnl" numeric(78, 0) NOT NULL,
	"marked_at" timestamp with time zone NOT NULL,
	CONSTRAINT "backstop_marks_pkey" PRIMARY KEY("chain_id","market_id","block_number"),
	CONSTRAINT "backstop_marks_market_id_check" CHECK ("backstop_marks"."market_id" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "backstop_marks_entry_price_check" CHECK ("backstop_marks"."entry_price" >= 0),
	CONSTRAINT "backstop_marks_oracle_price_check" CHECK ("backstop_marks"."oracle_price" >= 0)
);
--> statement-breakpoint
CREATE TABLE "backstop_unwinds" (
	"chain_id" bigint NOT NULL,
	"tx_hash" text NOT NULL,
	"log_index" integer NOT NULL,
	"block_number" bigint NOT NULL,
	"market_id" text NOT NULL,
	"size" numeric(78, 0) NOT NULL,
	"oracle_price" numeric(78, 0) NOT NULL,
	"execution_price" numeric(78, 0) NOT NULL,
	"pool_price" numeric(78, 0) NOT NULL,
	"proceeds" numeric(78, 0) NOT NULL,
	"slippage" numeric(78, 0) NOT NULL,
	"realized_pnl" numeric(78, 0) NOT NULL,
	"unwound_at" timestamp with time zone NOT NULL,
	CONSTRAINT "backstop_unwinds_pkey" PRIMARY KEY("chain_id","tx_hash","log_index"),
	CONSTRAINT "backstop_unwinds_tx_hash_check" CHECK ("backstop_unwinds"."tx_hash" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "backstop_unwinds_market_id_check" CHECK ("backstop_unwinds"."market_id" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "backstop_unwinds_size_check" CHECK ("backstop_unwinds"."size" <> 0),
	CONSTRAINT "backstop_unwinds_oracle_price_check" CHECK ("backstop_unwinds"."oracle_price" >= 0),
	CONSTRAINT "backstop_unwinds_execution_price_check" CHECK ("backstop_unwinds"."execution_price" >= 0),
	CONSTRAINT "backstop_unwinds_pool_price_check" CHECK ("backstop_unwinds"."pool_price" >= 0),
	CONSTRAINT "backstop_unwinds_proceeds_check" CHECK ("backstop_unwinds"."proceeds" >= 0)
);
--> statement-breakpoint
ALTER TABLE "backstop_marks" ADD CONSTRAINT "backstop_marks_chain_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backstop_unwinds" ADD CONSTRAINT "backstop_unwinds_chain_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("chain_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "backstop_unwinds_market_idx" ON "backstop_unwinds" USING btree ("chain_id","market_id");