-- Failed sign-ins per (account, address), for growing delays instead of a hard lock of the account: whoever fails
-- from one address slows down only that pair, and the right password from elsewhere still works.
CREATE TABLE "sign_in_failures" (
	"account" text NOT NULL,
	"address" text NOT NULL,
	"failures" integer NOT NULL,
	"last_failure_at" timestamp with time zone NOT NULL,
	CONSTRAINT "sign_in_failures_pkey" PRIMARY KEY("account","address")
);
--> statement-breakpoint
CREATE INDEX "sign_in_failures_last_failure_idx" ON "sign_in_failures" USING btree ("last_failure_at");
--> statement-breakpoint

-- When the pair may try again after `p_failures` failures, the last at `p_last`: at once for the first
-- `p_free - 1`, then 1 s, doubling with each failure, capped at `p_max_seconds`. The exponent is capped too, so a
-- huge count cannot overflow.
CREATE FUNCTION sign_in_retry_at(p_failures integer, p_last timestamptz, p_free integer, p_max_seconds integer)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_failures < p_free THEN p_last
              ELSE p_last + make_interval(secs => least(p_max_seconds, 2 ^ least(p_failures - p_free, 30)))
         END
$$;
