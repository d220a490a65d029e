import Formats
import Foundation

/// safetensors and PyTorch weights: one file per planned file (`ConversionPlan.files`, shards past
/// the shard size), with transformers' index when there are several, zstd-compressed when asked.
enum FileSetWeights: WeightsWriter {
    static func write(_ tensors: [any TensorByteSource], of plan: ConversionPlan, into staged: StagedOutput) throws
        -> [String]
    {
        guard let writer = plan.format.writer else { preconditionFailure("\(plan.format) has no file writer") }
        var fileNames: [String] = []
        var weightMap: [String: String] = [:]
        for file in plan.files {
            let path =
                plan.writesDirectory ? staged.staging.appendingPathComponent(file.name).path : staged.staging.path
            let names = Set(file.tensorIndices.map { plan.tensors[$0].output.name })
            let aliases = plan.aliases.filter { names.contains($0.target) }
            try writer.writeFile(
                file.tensorIndices.map { tensors[$0] }, aliases: aliases, metadata: plan.metadata, at: path)
            for index in file.tensorIndices { weightMap[plan.tensors[index].output.name] = file.name }
            // A PyTorch shard stores its aliases too, so the index maps them to it.
            if plan.format == .pytorch { for alias in aliases { weightMap[alias.alias] = file.name } }
            if plan.request.compress {
                // Written plain first (a PyTorch zip patches its headers at the end), then compressed.
                // In a directory the file becomes `<name>.zst`; a single file keeps its staging name.
                let compressed = URL(fileURLWithPath: path + Zstd.suffix)
                try Zstd.compress(URL(fileURLWithPath: path), to: compressed)
                try FileManager.default.removeItem(atPath: path)
                if !plan.writesDirectory {
                    try FileManager.default.moveItem(at: compressed, to: URL(fileURLWithPath: path))
                }
            }
            let suffix = plan.request.compress && plan.writesDirectory ? Zstd.suffix : ""
            fileNames.append(plan.writesDirectory ? file.name + suffix : staged.destination.lastPathComponent)
        }
        if plan.writesDirectory && plan.files.count > 1 {
            try writeTextFile(
                ShardedCheckpoint.indexJSON(weightMap: weightMap, totalSize: plan.outputTensorBytes),
                to: staged.staging.appendingPathComponent(plan.format.indexFileName))
            fileNames.append(plan.format.indexFileName)
        }
        return fileNames
    }
}
