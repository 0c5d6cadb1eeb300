-- wrk script for the ingest scenario (bench/documents.py): POSTs ITI-65 transaction bundles read
-- from template files, round robin, each with a fresh masterIdentifier (and SubmissionSet id).
--
--   wrk -s bench/ingest.lua URL -- <run id> <template file> [<template file>...]
--
-- A template is a complete bundle whose identifiers read __UID__; the file is split there once,
-- and each request joins the pieces around "urn:oid:1.2.250.1.999.77.<run>.<thread>.<n>".

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local pieces = {}
local run = "0"
local counter = 0

local function split(text, marker)
  local parts, start = {}, 1
  while true do
    local i, j = string.find(text, marker, start, true)
    if not i then
      parts[#parts + 1] = string.sub(text, start)
      return parts
    end
    parts[#parts + 1] = string.sub(text, start, i - 1)
    start = j + 1
  end
end

function init(args)
  run = args[1]
  for i = 2, #args do
    local file = assert(io.open(args[i], "rb"))
    pieces[#pieces + 1] = split(file:read("*a"), "__UID__")
    file:close()
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/fhir+json"
end

function request()
  counter = counter + 1
  local parts = pieces[(counter % #pieces) + 1]
  local uid = "urn:oid:1.2.250.1.999.77." .. run .. "." .. tid .. "." .. counter
  return wrk.format(nil, nil, nil, table.concat(parts, uid))
end
