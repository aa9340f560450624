-- What modgate's model says about a text Perspective clients send feedback on (Coral Talk
-- sends its moderators' approve/reject decisions), so the moderators' agreement figures
-- cover sites that use modgate through the Perspective-compatible API too.
ALTER TABLE perspective_feedback ADD COLUMN model_scores TEXT;  -- JSON {attribute as sent: score}
ALTER TABLE perspective_feedback ADD COLUMN model_id TEXT;
ALTER TABLE perspective_feedback ADD COLUMN language TEXT;      -- detected (with the request's hint)
