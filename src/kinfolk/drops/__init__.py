"""Limited numbered editions: scheduled drops, holds, waitlists, early access — never oversold."""
