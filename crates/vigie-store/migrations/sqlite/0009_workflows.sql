-- Workflows. A ticket remembers each step of its category's path it entered, with when
-- (`step@micros;...`, an empty step when it left the path): where it is, and how long each step
-- took.
ALTER TABLE tickets ADD COLUMN steps TEXT NOT NULL DEFAULT '';
