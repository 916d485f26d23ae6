-- Events of one stream by position. Projections and the device page read a
-- stream up to a position (`stream_id = $1 AND position <= $2`); with this
-- index that read is one range scan whatever the planner statistics. On
-- PostgreSQL without statistics the same read was planned as a bitmap AND
-- of the stream index and the primary key, which scanned every earlier
-- position.
CREATE INDEX events_by_stream_position ON events (stream_id, position);
