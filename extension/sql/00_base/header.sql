-- Switchboard 0.1.0 install script, assembled at build time from extension/sql/<nn>_<capability>/.
\echo Use "CREATE EXTENSION switchboard" to load this file. \quit
