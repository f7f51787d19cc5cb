ALTER TABLE "shortfalls" ADD COLUMN "latest_required_amount" numeric(78, 0);--> statement-breakpoint
ALTER TABLE "shortfalls" ADD COLUMN "latest_equity" numeric(78, 0);--> statement-breakpoint
ALTER TABLE "shortfalls" ADD COLUMN "latest_maintenance" numeric(78, 0);--> statement-breakpoint
ALTER TABLE "shortfalls" ADD COLUMN "latest_m_eff" double precision;--> statement-breakpoint
ALTER TABLE "shortfalls" ADD COLUMN "latest_block" bigint;--> statement-breakpoint
ALTER TABLE "shortfalls" ADD COLUMN "latest_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "legs" ADD COLUMN "relief" numeric(78, 0) DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "legs_reserving_source_idx" ON "legs" USING btree ("source_chain_id","kind","account") WHERE "legs"."kind" in ('collateral', 'liquidity') and "legs"."status" not in ('credited', 'failed', 'refunded');--> statement-breakpoint
ALTER TABLE "shortfalls" ADD CONSTRAINT "shortfalls_latest_required_amount_check" CHECK ("shortfalls"."latest_required_amount" >= 0);--> statement-breakpoint
ALTER TABLE "shortfalls" ADD CONSTRAINT "shortfalls_latest_maintenance_check" CHECK ("shortfalls"."latest_maintenance" >= 0);--> statement-breakpoint
ALTER TABLE "shortfalls" ADD CONSTRAINT "shortfalls_latest_block_check" CHECK ("shortfalls"."latest_block" >= 0);--> statement-breakpoint
ALTER TABLE "legs" ADD CONSTRAINT "legs_relief_check" CHECK ("legs"."relief" >= 0);