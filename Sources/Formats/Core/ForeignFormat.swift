/// Model files zoo recognises only to refuse them by name, saying what it reads instead.
///
/// They are told apart from their bytes where the bytes allow (`Checkpoint.foreignFormat(of:)`):
/// the HDF5 signature, a msgpack map keyed by strings, a TensorFlow bundle holding the object
/// graph of `tf.train.Checkpoint`, a torch zip with TorchScript's `code/` and `constants.pkl`.
public enum ForeignFormat: String, Sendable, Equatable, CaseIterable {
    /// A TensorFlow 2 object-based checkpoint (`tf.train.Checkpoint`, Keras `save_weights`).
    case tensorflowObjectBased = "tensorflow-object-based"
    /// Keras weights in HDF5 (`tf_model.h5`).
    case kerasHDF5 = "keras-hdf5"
    /// Flax weights serialised with msgpack (`flax_model.msgpack`).
    case flaxMsgpack = "flax-msgpack"
    /// A TorchScript archive (`torch.jit.save`): a program, not a state dict.
    case torchScript = "torchscript"

    /// What the file is, as a person would say it.
    public var displayName: String {
        switch self {
        case .tensorflowObjectBased:
            "a TensorFlow 2 object-based checkpoint (tf.train.Checkpoint: keys like v/.ATTRIBUTES/VARIABLE_VALUE "
                + "and a _CHECKPOINTABLE_OBJECT_GRAPH entry)"
        case .kerasHDF5: "an HDF5 file (Keras weights, as in transformers' tf_model.h5)"
        case .flaxMsgpack: "a msgpack file (Flax weights, as in transformers' flax_model.msgpack)"
        case .torchScript: "a TorchScript archive (torch.jit.save: it holds code/ and constants.pkl)"
        }
    }

    /// What zoo reads instead, and how to get there.
    public var instead: String {
        switch self {
        case .tensorflowObjectBased:
            "zoo reads name-based TensorFlow checkpoints (tf.compat.v1.train.Saver, as Mesh-TensorFlow writes them), "
                + "safetensors and PyTorch files"
        case .kerasHDF5:
            "convert the model's model.safetensors or pytorch_model.bin instead, or load this one with "
                + "transformers (from_pretrained(..., from_tf=True)) and save_pretrained it"
        case .flaxMsgpack:
            "convert the model's model.safetensors or pytorch_model.bin instead, or load this one with "
                + "transformers (from_pretrained(..., from_flax=True)) and save_pretrained it"
        case .torchScript:
            "zoo reads state dicts saved with torch.save(model.state_dict()), safetensors and TensorFlow checkpoints"
        }
    }
}
